"""Inspect and replay the events the Lambda gave up on.

Why: after every retry the deployed stack parks a failed invocation in an SQS
queue (the EventInvokeConfig on-failure destination). Once the cause is fixed
— the callback endpoint is back, a bad deploy rolled back — those events
should run again, exactly as S3 first sent them. Replaying is safe because the
handler is idempotent: a manifest already written only has its callback resent.

A message leaves the queue only after its re-invocation was accepted, so a
replay that fails (or a crash halfway through the batch) loses nothing.

This module is the queue side and the deployed function's invoker
(:class:`LambdaInvoker`); running the handler in-process instead is
:class:`async_image_upload.local.invoker.LocalInvoker`.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote_plus

#: How long a listed or replayed message is hidden from other readers while we work.
HOLD_SECONDS = 60
#: SQS returns at most 10 messages per receive.
RECEIVE_BATCH = 10
#: Long-poll each receive this long. A short poll (0) asks only a sample of the
#: SQS servers and can come back empty while a small queue holds messages.
RECEIVE_WAIT_SECONDS = 1
#: A listing ends only after this many empty replies in a row.
EMPTY_REPLIES_TO_STOP = 2


class ReplayError(Exception):
    """A re-invocation was not accepted; the message stays in the queue."""


@dataclass(frozen=True)
class DeadLetter:
    """One parked event, whichever shape it arrived in."""

    message_id: str
    receipt_handle: str
    #: The S3 event to run again, or None when the body could not be understood.
    request_payload: dict[str, Any] | None
    #: ``RetriesExhausted``/``EventAgeExceeded`` (destination records), ``S3Event``
    #: (a raw event, as an SQS redrive or the local stack parks it) or ``Unreadable``.
    condition: str
    function_arn: str | None = None
    attempts: int | None = None
    error: str = ""
    failed_at: datetime | None = None
    receive_count: int = 0
    keys: tuple[str, ...] = field(default=())

    @property
    def replayable(self) -> bool:
        return self.request_payload is not None

    def age_seconds(self, now: datetime | None = None) -> float | None:
        if self.failed_at is None:
            return None
        return ((now or datetime.now(UTC)) - self.failed_at).total_seconds()


def parse_message(message: dict[str, Any]) -> DeadLetter:
    """A :class:`DeadLetter` from an SQS message; never raises on a strange body."""
    attributes = message.get("Attributes") or {}
    common: dict[str, Any] = {
        "message_id": message["MessageId"],
        "receipt_handle": message["ReceiptHandle"],
        "receive_count": int(attributes.get("ApproximateReceiveCount", 0)),
        "failed_at": _from_epoch_ms(attributes.get("SentTimestamp")),
    }
    try:
        body = json.loads(message["Body"])
    except (TypeError, ValueError):
        return DeadLetter(request_payload=None, condition="Unreadable", **common)
    if not isinstance(body, dict):
        return DeadLetter(request_payload=None, condition="Unreadable", **common)
    if isinstance(body.get("requestPayload"), dict):
        context = body.get("requestContext") or {}
        response = body.get("responsePayload") or {}
        payload = body["requestPayload"]
        return DeadLetter(
            request_payload=payload,
            condition=str(context.get("condition") or "Unknown"),
            function_arn=context.get("functionArn"),
            attempts=context.get("approximateInvokeCount"),
            error=str(response.get("errorMessage") or "") if isinstance(response, dict) else "",
            keys=_keys(payload),
            **{**common, "failed_at": _from_iso(body.get("timestamp")) or common["failed_at"]},
        )
    if isinstance(body.get("Records"), list):
        return DeadLetter(request_payload=body, condition="S3Event", keys=_keys(body), **common)
    return DeadLetter(request_payload=None, condition="Unreadable", **common)


def receive(
    sqs: Any,
    queue_url: str,
    *,
    limit: int,
    hold_s: int = HOLD_SECONDS,
    wait_s: int | None = None,
) -> list[DeadLetter]:
    """Up to ``limit`` messages, each hidden from other readers for ``hold_s`` seconds.

    Each receive long-polls ``wait_s`` seconds (default :data:`RECEIVE_WAIT_SECONDS`),
    and the listing stops after :data:`EMPTY_REPLIES_TO_STOP` replies in a row without
    a new message,
    so a small queue is not reported empty because one reply happened to be.
    """
    wait_s = RECEIVE_WAIT_SECONDS if wait_s is None else wait_s
    letters: dict[str, DeadLetter] = {}
    empty_replies = 0
    while len(letters) < limit and empty_replies < EMPTY_REPLIES_TO_STOP:
        response = sqs.receive_message(
            QueueUrl=queue_url,
            MaxNumberOfMessages=min(RECEIVE_BATCH, limit - len(letters)),
            VisibilityTimeout=hold_s,
            WaitTimeSeconds=wait_s,
            AttributeNames=["All"],
        )
        batch = response.get("Messages", [])
        # A reply of messages already listed (a hold shorter than the listing) counts as
        # empty too, or a zero --hold would list the same message forever.
        new = any(message["MessageId"] not in letters for message in batch)
        empty_replies = 0 if new else empty_replies + 1
        for message in batch:
            # Received again (its hold ran out): only the newest receipt handle deletes it.
            letters[message["MessageId"]] = parse_message(message)
    return list(letters.values())


def release(sqs: Any, queue_url: str, letters: list[DeadLetter]) -> None:
    """Make messages visible again at once, so the next listing sees them."""
    _set_visibility(sqs, queue_url, letters, 0)


def _set_visibility(sqs: Any, queue_url: str, letters: list[DeadLetter], seconds: int) -> None:
    for start in range(0, len(letters), RECEIVE_BATCH):
        batch = letters[start : start + RECEIVE_BATCH]
        sqs.change_message_visibility_batch(
            QueueUrl=queue_url,
            Entries=[
                {
                    "Id": str(index),
                    "ReceiptHandle": letter.receipt_handle,
                    "VisibilityTimeout": seconds,
                }
                for index, letter in enumerate(batch)
            ],
        )


Invoker = Callable[[DeadLetter], None]


class LambdaInvoker:
    """Re-invokes the function asynchronously, as S3 did: Lambda's retries apply again."""

    def __init__(self, client: Any, function: str | None = None) -> None:
        self.client = client
        self.function = function

    def __call__(self, letter: DeadLetter) -> None:
        function = self.function or letter.function_arn
        if not function:
            raise ReplayError("no function to invoke: the message names none; pass one")
        response = self.client.invoke(
            FunctionName=function,
            InvocationType="Event",
            Payload=json.dumps(letter.request_payload).encode(),
        )
        if response.get("StatusCode") != 202:
            raise ReplayError(f"Lambda answered {response.get('StatusCode')}, not 202")


@dataclass(frozen=True)
class ReplayResult:
    letter: DeadLetter
    #: ``replayed`` (and deleted), ``would_replay`` (dry run), ``failed`` or ``skipped``.
    outcome: str
    detail: str = ""


def replay(
    sqs: Any,
    queue_url: str,
    letters: list[DeadLetter],
    invoker: Invoker,
    *,
    dry_run: bool = False,
    hold_s: int | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> list[ReplayResult]:
    """Re-invoke each replayable letter; delete it only once the invocation was accepted.

    With ``hold_s`` (for slow, in-process replays) each message is hidden for
    another ``hold_s`` seconds just before its invocation, and the ones still
    waiting their turn are re-hidden whenever half of that has passed, so a long
    replay neither lets another reader take them nor leaves stale receipt handles.
    A message whose hold could not be extended (another reader has it by now) is
    reported failed and not invoked.

    A message that was replayed but could not be deleted is reported failed too:
    it stays in the queue, and replaying it again is safe.
    """
    results: list[ReplayResult] = []
    kept: list[DeadLetter] = []
    refreshed = clock()
    for index, letter in enumerate(letters):
        if not letter.replayable:
            results.append(ReplayResult(letter, "skipped", "no event in the message"))
            kept.append(letter)
            continue
        if dry_run:
            results.append(ReplayResult(letter, "would_replay"))
            kept.append(letter)
            continue
        if hold_s is not None:
            if clock() - refreshed >= hold_s / 2:
                waiting = [w for w in letters[index + 1 :] if w.replayable]
                _set_visibility(sqs, queue_url, waiting, hold_s)  # failed entries: see below
                refreshed = clock()
            try:
                sqs.change_message_visibility(
                    QueueUrl=queue_url,
                    ReceiptHandle=letter.receipt_handle,
                    VisibilityTimeout=hold_s,
                )
            except Exception as exc:  # not invoked, so nothing is lost
                results.append(
                    ReplayResult(
                        letter,
                        "failed",
                        f"its hold ran out before its turn and could not be extended ({exc}); "
                        "not replayed, run the replay again",
                    )
                )
                continue
        try:
            invoker(letter)
        except Exception as exc:  # any failure keeps the message; the operator sees why
            results.append(ReplayResult(letter, "failed", str(exc)))
            kept.append(letter)
            continue
        try:
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=letter.receipt_handle)
        except Exception as exc:  # replayed; a second replay is harmless
            results.append(
                ReplayResult(
                    letter,
                    "failed",
                    f"replayed, but the message could not be deleted ({exc}); it stays in "
                    "the queue and replaying it again is safe",
                )
            )
            continue
        results.append(ReplayResult(letter, "replayed"))
    if kept:
        release(sqs, queue_url, kept)
    return results


def upload_ids(letter: DeadLetter, temp_prefix: str) -> list[str]:
    """The upload ids the event's keys name (``<temp prefix><id>``)."""
    return [key[len(temp_prefix) :] for key in letter.keys if key.startswith(temp_prefix)]


def _keys(event: dict[str, Any]) -> tuple[str, ...]:
    keys = []
    for record in event.get("Records") or []:
        try:
            keys.append(unquote_plus(record["s3"]["object"]["key"]))
        except (KeyError, TypeError):
            continue
    return tuple(keys)


def _from_epoch_ms(value: Any) -> datetime | None:
    try:
        return datetime.fromtimestamp(int(value) / 1000, tz=UTC)
    except (TypeError, ValueError):
        return None


def _from_iso(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
