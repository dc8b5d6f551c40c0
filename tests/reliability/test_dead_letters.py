"""replay_dead_letters: SQS side on moto's server over HTTP; the invoke side three ways.

* moto's Lambda can only *run* a function in Docker, which CI does not have. Its
  "simple" backend (``use_docker: false``) still answers ``Invoke`` over HTTP with
  202 for ``InvocationType=Event``, so the boto3 call shape and the delete-after-202
  rule are tested against it; that the function then works is not (moto cannot say).
* ``--local`` runs the real handler in-process: the replayed event really turns a
  parked upload ``ready`` through a live callback.
* A failing replay uses an injected invoker (a callable) that raises; failing
  SQS calls use a proxy client that raises botocore's ClientError for one operation.
* Receives long-poll RECEIVE_WAIT_SECONDS in production; here it is 0 so an
  empty queue answers at once (the polling rule itself is tested with a stub).
"""

from __future__ import annotations

import json
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests
from botocore.exceptions import ClientError
from django.core.management import CommandError, call_command

from async_image_upload import ImageUpload, Status
from async_image_upload import dead_letters as dl
from async_image_upload.local.invoker import LocalInvoker
from async_image_upload.testing import s3_event

FUNCTION_ARN = "arn:aws:lambda:us-east-1:123456789012:function:photos-thumbnails:$LATEST"
#: The production long-poll, read before the fixture below shortens it.
DEFAULT_WAIT_SECONDS = dl.RECEIVE_WAIT_SECONDS


@pytest.fixture(autouse=True)
def no_long_polling(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(dl, "RECEIVE_WAIT_SECONDS", 0)


class FailingSQS:
    """The real (moto) client, except that one operation fails as AWS would fail it."""

    def __init__(self, sqs: Any, operation: str, code: str = "InternalError") -> None:
        self._sqs, self._operation, self._code = sqs, operation, code

    def __getattr__(self, name: str) -> Any:
        if name != self._operation:
            return getattr(self._sqs, name)

        def fail(**kwargs: Any) -> None:
            raise ClientError({"Error": {"Code": self._code, "Message": "injected"}}, name)

        return fail


def destination_record(event: dict[str, Any], error: str, hours_ago: float = 2) -> dict[str, Any]:
    """What Lambda's on-failure destination writes to the queue (AWS's documented shape)."""
    when = datetime.now(UTC) - timedelta(hours=hours_ago)
    return {
        "version": "1.0",
        "timestamp": when.isoformat().replace("+00:00", "Z"),
        "requestContext": {
            "requestId": str(uuid.uuid4()),
            "functionArn": FUNCTION_ARN,
            "condition": "RetriesExhausted",
            "approximateInvokeCount": 3,
        },
        "requestPayload": event,
        "responseContext": {
            "statusCode": 200,
            "executedVersion": "$LATEST",
            "functionError": "Unhandled",
        },
        "responsePayload": {"errorMessage": error, "errorType": "CallbackError"},
    }


@pytest.fixture
def sqs(aws_client: Any) -> Any:
    return aws_client("sqs")


@pytest.fixture
def queue_url(sqs: Any) -> str:
    return sqs.create_queue(QueueName=f"dlq-{uuid.uuid4().hex[:10]}")["QueueUrl"]


@pytest.fixture
def simple_lambda(s3_server: str, aws_client: Any) -> Any:
    """moto's Docker-free Lambda backend for the duration of one test."""
    config_url = f"{s3_server}/moto-api/config"
    requests.post(config_url, json={"lambda": {"use_docker": False}}, timeout=5).raise_for_status()
    yield aws_client("lambda")
    requests.post(config_url, json={"lambda": {"use_docker": True}}, timeout=5).raise_for_status()


def park(sqs: Any, queue_url: str, body: dict[str, Any] | str) -> None:
    sqs.send_message(
        QueueUrl=queue_url, MessageBody=body if isinstance(body, str) else json.dumps(body)
    )


def queue_size(sqs: Any, queue_url: str) -> int:
    attributes = sqs.get_queue_attributes(
        QueueUrl=queue_url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return sum(int(value) for value in attributes.values())


def event_for(upload_id: Any) -> dict[str, Any]:
    return s3_event("photos", f"temp/{upload_id}", 1234, "0123abcd")


@pytest.mark.django_db
def test_listing_shows_reason_attempts_age_and_upload_status(
    sqs, queue_url, s3_server, make_upload, capsys
) -> None:
    upload = make_upload()
    park(sqs, queue_url, destination_record(event_for(upload.pk), "callback not delivered", 3))
    park(sqs, queue_url, event_for(uuid.uuid4()))  # a raw S3 event, as an SQS redrive parks it
    park(sqs, queue_url, "not json")

    call_command("replay_dead_letters", "--queue-url", queue_url, "--endpoint-url", s3_server)

    out = capsys.readouterr().out
    assert f"3 message(s) in {queue_url}" in out
    assert (
        f"3h00m ago  RetriesExhausted after 3 attempts  received 1x  {upload.pk} (pending)" in out
    )
    assert "callback not delivered" in out
    assert "S3Event" in out and "(no upload row)" in out and "Unreadable" in out
    # Listing hides nothing: every message is visible again for the next reader.
    assert len(dl.receive(sqs, queue_url, limit=10)) == 3


def test_parse_understands_both_shapes_and_survives_garbage() -> None:
    event = event_for("4f1c0d2e-0000-4000-8000-000000000000")
    record = dl.parse_message(
        {
            "MessageId": "m1",
            "ReceiptHandle": "r1",
            "Body": json.dumps(destination_record(event, "boom")),
        }
    )
    assert record.request_payload == event and record.function_arn == FUNCTION_ARN
    assert record.keys == ("temp/4f1c0d2e-0000-4000-8000-000000000000",)
    assert 2 * 3600 - 60 < record.age_seconds() < 2 * 3600 + 60
    for body in ("[]", "null", "{}", '{"requestPayload": 3}'):
        letter = dl.parse_message({"MessageId": "m", "ReceiptHandle": "r", "Body": body})
        assert not letter.replayable and letter.condition == "Unreadable"


@pytest.mark.django_db
def test_replay_invokes_asynchronously_and_deletes_only_accepted(
    sqs, queue_url, s3_server, simple_lambda, capsys
) -> None:
    park(sqs, queue_url, destination_record(event_for(uuid.uuid4()), "boom"))
    park(sqs, queue_url, destination_record(event_for(uuid.uuid4()), "boom"))
    park(sqs, queue_url, "garbage")

    call_command(
        "replay_dead_letters", "--queue-url", queue_url, "--endpoint-url", s3_server,
        "--replay", "--dry-run",
    )  # fmt: skip
    assert "2 would replay" in capsys.readouterr().out
    assert queue_size(sqs, queue_url) == 3

    call_command(
        "replay_dead_letters", "--queue-url", queue_url, "--endpoint-url", s3_server, "--replay"
    )
    out = capsys.readouterr().out
    assert "2 replayed, 0 would replay, 0 failed, 1 skipped" in out
    # Only the unreadable one is left, visible again for a human to look at.
    left = dl.receive(sqs, queue_url, limit=10)
    assert [letter.condition for letter in left] == ["Unreadable"]


def test_the_invoke_carries_the_original_event(simple_lambda) -> None:
    """moto's simple backend echoes the payload: it is exactly what S3 first sent."""
    event = event_for(uuid.uuid4())
    response = simple_lambda.invoke(
        FunctionName=FUNCTION_ARN, InvocationType="Event", Payload=json.dumps(event).encode()
    )
    assert response["StatusCode"] == 202
    assert json.loads(response["Payload"].read()) == event
    letter = dl.DeadLetter("m", "r", event, "RetriesExhausted", function_arn=FUNCTION_ARN)
    dl.LambdaInvoker(simple_lambda)(letter)  # accepted: no exception


def test_a_failed_replay_keeps_the_message(sqs, queue_url) -> None:
    park(sqs, queue_url, destination_record(event_for(uuid.uuid4()), "boom"))
    park(sqs, queue_url, destination_record(event_for(uuid.uuid4()), "boom"))
    calls: list[str] = []

    def flaky_invoker(letter: dl.DeadLetter) -> None:  # injected: fails the first replay only
        calls.append(letter.message_id)
        if len(calls) == 1:
            raise dl.ReplayError("throttled")

    results = dl.replay(sqs, queue_url, dl.receive(sqs, queue_url, limit=10), flaky_invoker)

    assert [result.outcome for result in results] == ["failed", "replayed"]
    left = dl.receive(sqs, queue_url, limit=10)
    assert [letter.message_id for letter in left] == [calls[0]]


def test_command_exit_codes(sqs, queue_url, s3_server, settings) -> None:
    park(sqs, queue_url, destination_record(event_for(uuid.uuid4()), "boom"))
    settings.ASYNC_IMAGE_UPLOAD = {**settings.ASYNC_IMAGE_UPLOAD, "CALLBACK_URL": None}
    with pytest.raises(dl.ReplayError, match="CALLBACK_URL"):
        LocalInvoker.from_settings()
    with pytest.raises(CommandError) as missing:
        call_command(
            "replay_dead_letters", "--queue-url", f"{queue_url}-gone", "--endpoint-url", s3_server
        )
    assert missing.value.returncode == 2
    with pytest.raises(CommandError, match="Cannot read stack 'nope'") as no_stack:
        call_command("replay_dead_letters", "--stack", "nope", "--endpoint-url", s3_server)
    assert no_stack.value.returncode == 2


@pytest.mark.django_db(transaction=True)
def test_local_replay_finishes_a_parked_upload(
    sqs, queue_url, s3_server, make_upload, put_source, live_server, settings, monkeypatch, signals
) -> None:
    """The endpoint was down; the event was parked; after the fix, one replay makes it ready."""
    for name in (
        "TEMP_FOLDER",
        "IMAGE_FOLDER",
        "CALLBACK_URL",
        "CALLBACK_SECRET",
        "S3_ENDPOINT_URL",
    ):
        monkeypatch.delenv(name, raising=False)
    settings.ASYNC_IMAGE_UPLOAD = {
        **settings.ASYNC_IMAGE_UPLOAD,
        "CALLBACK_URL": f"{live_server.url}/uploads/callback/",
    }
    upload = make_upload()
    park(sqs, queue_url, destination_record(put_source(upload), "callback not delivered"))

    call_command(
        "replay_dead_letters", "--queue-url", queue_url, "--endpoint-url", s3_server,
        "--replay", "--local",
    )  # fmt: skip

    upload.refresh_from_db()
    assert upload.status == Status.READY and len(upload.variants) == 8
    assert signals == [(str(upload.pk), "pending", "ready")]
    assert queue_size(sqs, queue_url) == 0
    assert ImageUpload.objects.filter(status=Status.PENDING).count() == 0


def test_an_empty_reply_is_not_the_end_of_the_queue() -> None:
    """SQS samples servers: a small queue can answer empty once; two in a row end the listing."""

    class SampledSQS:
        def __init__(self, replies: list[list[str]]) -> None:
            self.replies, self.calls = replies, []

        def receive_message(self, **kwargs: Any) -> dict[str, Any]:
            self.calls.append(kwargs)
            ids = self.replies.pop(0) if self.replies else []
            body = json.dumps(event_for(uuid.uuid4()))
            return {"Messages": [{"MessageId": i, "ReceiptHandle": i, "Body": body} for i in ids]}

    sqs = SampledSQS([[], ["m1"], [], ["m2"], [], []])
    letters = dl.receive(sqs, "url", limit=10, wait_s=2)
    assert [letter.message_id for letter in letters] == ["m1", "m2"]
    assert len(sqs.calls) == 6
    assert {call["WaitTimeSeconds"] for call in sqs.calls} == {2}
    assert 1 <= DEFAULT_WAIT_SECONDS <= 2  # a short long-poll, never a short poll
    # With a hold shorter than the listing the same message comes back: that is no news.
    repeating = SampledSQS([["m1"]] * 50)
    assert len(dl.receive(repeating, "url", limit=10, hold_s=0)) == 1
    assert len(repeating.calls) == 3


def test_local_without_callback_url_is_a_command_error_and_hides_nothing(
    sqs, queue_url, s3_server, settings
) -> None:
    park(sqs, queue_url, destination_record(event_for(uuid.uuid4()), "boom"))
    settings.ASYNC_IMAGE_UPLOAD = {**settings.ASYNC_IMAGE_UPLOAD, "CALLBACK_URL": None}
    with pytest.raises(CommandError, match="CALLBACK_URL") as refused:
        call_command(
            "replay_dead_letters", "--queue-url", queue_url, "--endpoint-url", s3_server,
            "--replay", "--local",
        )  # fmt: skip
    assert refused.value.returncode == 2
    assert len(dl.receive(sqs, queue_url, limit=10)) == 1  # refused before receiving


def test_a_replayed_message_that_cannot_be_deleted_is_reported_not_raised(sqs, queue_url) -> None:
    park(sqs, queue_url, destination_record(event_for(uuid.uuid4()), "boom"))
    letters = dl.receive(sqs, queue_url, limit=10)
    invoked: list[str] = []

    results = dl.replay(
        FailingSQS(sqs, "delete_message"), queue_url, letters, lambda x: invoked.append(x)
    )

    assert [(r.outcome, "could not be deleted" in r.detail) for r in results] == [("failed", True)]
    assert len(invoked) == 1
    assert queue_size(sqs, queue_url) == 1  # still there; replaying it again is safe


@pytest.mark.django_db
def test_a_failed_release_is_a_command_error(sqs, queue_url, s3_server, monkeypatch) -> None:
    park(sqs, queue_url, "garbage")

    def refuse(*args: Any, **kwargs: Any) -> None:
        raise ClientError({"Error": {"Code": "AccessDenied", "Message": "no"}}, "ChangeVisibility")

    monkeypatch.setattr(dl, "release", refuse)
    for extra in ((), ("--replay",)):
        with pytest.raises(CommandError, match="Could not make the messages visible") as failed:
            call_command(
                "replay_dead_letters", "--queue-url", queue_url, "--endpoint-url", s3_server,
                "--hold", "0", *extra,  # hold 0: the next round sees the message again
            )  # fmt: skip
        assert failed.value.returncode == 2


def test_a_slow_replay_keeps_the_waiting_messages_hidden(sqs, queue_url) -> None:
    """A --local replay outlasting --hold: no other reader gets a message meanwhile."""
    for _ in range(2):
        park(sqs, queue_url, destination_record(event_for(uuid.uuid4()), "boom"))
    letters = dl.receive(sqs, queue_url, limit=10, hold_s=2)
    seen_by_others: list[int] = []

    def slow_invoker(letter: dl.DeadLetter) -> None:
        time.sleep(1.2)  # two of these outlast the 2 s hold taken at receive
        other = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=0)
        seen_by_others.append(len(other.get("Messages", [])))

    results = dl.replay(sqs, queue_url, letters, slow_invoker, hold_s=2)

    assert [r.outcome for r in results] == ["replayed", "replayed"]
    assert seen_by_others == [0, 0]
    assert queue_size(sqs, queue_url) == 0


def test_a_message_whose_hold_cannot_be_extended_is_not_replayed(sqs, queue_url) -> None:
    park(sqs, queue_url, destination_record(event_for(uuid.uuid4()), "boom"))
    letters = dl.receive(sqs, queue_url, limit=10)
    invoked: list[str] = []
    faulty = FailingSQS(sqs, "change_message_visibility", "MessageNotInflight")

    results = dl.replay(faulty, queue_url, letters, lambda x: invoked.append(x), hold_s=60)

    assert [r.outcome for r in results] == ["failed"]
    assert "run the replay again" in results[0].detail
    assert invoked == []
