"""replay_dead_letters: SQS side on moto's server over HTTP; the invoke side three ways.

* moto's Lambda can only *run* a function in Docker, which CI does not have. Its
  "simple" backend (``use_docker: false``) still answers ``Invoke`` over HTTP with
  202 for ``InvocationType=Event``, so the boto3 call shape and the delete-after-202
  rule are tested against it; that the function then works is not (moto cannot say).
* ``--local`` runs the real handler in-process: the replayed event really turns a
  parked upload ``ready`` through a live callback.
* A failing replay uses an injected invoker (a callable) that raises.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
import requests
from django.core.management import CommandError, call_command

from async_image_upload import ImageUpload, Status
from async_image_upload import dead_letters as dl
from async_image_upload.testing import s3_event

FUNCTION_ARN = "arn:aws:lambda:us-east-1:123456789012:function:photos-thumbnails:$LATEST"


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
def sqs(s3_server: str) -> Any:
    return boto3.client("sqs", endpoint_url=s3_server, region_name="us-east-1")


@pytest.fixture
def queue_url(sqs: Any) -> str:
    return sqs.create_queue(QueueName=f"dlq-{uuid.uuid4().hex[:10]}")["QueueUrl"]


@pytest.fixture
def simple_lambda(s3_server: str) -> Any:
    """moto's Docker-free Lambda backend for the duration of one test."""
    config_url = f"{s3_server}/moto-api/config"
    requests.post(config_url, json={"lambda": {"use_docker": False}}, timeout=5).raise_for_status()
    yield boto3.client("lambda", endpoint_url=s3_server, region_name="us-east-1")
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
        dl.LocalInvoker.from_settings()
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
