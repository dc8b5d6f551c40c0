"""Faults on the local stack: every upload still ends ready, with one signal each.

Real parts throughout: the API presigns, the photo is POSTed to the embedded
S3, S3's own notification queues the event, EventWorkers hand it to the
production handler, and its signed callback reaches the live Django server
through :class:`FlakyEndpoint`, which fails on command.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from django.db import connection

from async_image_upload import ImageUpload, Status
from async_image_upload.reconcile import Action, reconcile
from tests.reliability.conftest import jpeg_bytes
from tests.reliability.faults import FlakyEndpoint
from tests.reliability.stack import upload_photo, wait_for

pytestmark = pytest.mark.django_db(transaction=True)
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def endpoint(live_server):
    flaky = FlakyEndpoint(live_server.url, slow_s=2.0)
    flaky.up()
    yield flaky
    flaky.close()


@pytest.fixture
def stack(endpoint, make_stack):
    # Short callback timeouts and few attempts: an outage outlasts the Lambda's own
    # retries within seconds, so queue redelivery is exercised too.
    return make_stack(
        endpoint.url("/uploads/callback/"), CALLBACK_TIMEOUT="0.5", CALLBACK_MAX_ATTEMPTS="3"
    )


def statuses(ids: list[str]) -> Counter[str]:
    return Counter(ImageUpload.objects.filter(pk__in=ids).values_list("status", flat=True))


def all_ready(ids: list[str]) -> bool:
    return statuses(ids) == Counter({Status.READY: len(ids)})


def assert_one_signal_each(signals, ids: list[str]) -> None:
    assert sorted(signals) == sorted((upload_id, "pending", "ready") for upload_id in ids)


def test_callback_endpoint_down_for_a_stretch(alice_client, stack, endpoint, signals) -> None:
    """Connection refused, then 503s, then timeouts; once it answers, all end ready."""
    stack.start_workers(1)
    endpoint.down()
    ids = [upload_photo(alice_client, jpeg_bytes()) for _ in range(3)]
    bucket = stack.local.client("s3")
    # The Lambda did its work (the manifests are there) but could not report it.
    wait_for(
        lambda: all(
            bucket.list_objects_v2(Bucket=stack.local.bucket, Prefix=f"image/{i}/manifest.json")[
                "KeyCount"
            ]
            for i in ids
        ),
        30,
        "the manifests",
    )
    for mode in ("error", "slow"):
        endpoint.up(mode)
        wait_for(lambda mode=mode: endpoint.seen[mode] >= 3, 30, f"callbacks meeting {mode!r}")
    assert statuses(ids) == Counter({Status.PENDING: 3})

    endpoint.up("pass")
    wait_for(lambda: all_ready(ids), 45, "every upload to be ready")
    wait_for(lambda: stack.queued() == 0, 15, "the queue to drain")
    assert_one_signal_each(signals, ids)
    assert bucket.list_objects_v2(Bucket=stack.local.bucket, Prefix="temp/")["KeyCount"] == 0


def test_duplicated_out_of_order_events_make_one_transition(alice_client, stack, signals) -> None:
    """Every S3 event two or three times, shuffled, to two workers racing each other."""
    if connection.vendor == "sqlite":
        pytest.skip("Concurrent callbacks need a database shared between threads (PostgreSQL).")
    ids = [upload_photo(alice_client, jpeg_bytes()) for _ in range(4)]
    sqs = stack.sqs
    originals: list[str] = []
    deadline = time.monotonic() + 15
    while len(originals) < len(ids) and time.monotonic() < deadline:
        for message in sqs.receive_message(
            QueueUrl=stack.local.queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1
        ).get("Messages", []):
            sqs.delete_message(
                QueueUrl=stack.local.queue_url, ReceiptHandle=message["ReceiptHandle"]
            )
            if "Records" in json.loads(message["Body"]):  # not S3's s3:TestEvent
                originals.append(message["Body"])
    assert len(originals) == len(ids), "S3 did not notify once per upload"
    rng = random.Random(6)
    copies = [body for body in originals for _ in range(rng.choice((2, 3)))]
    rng.shuffle(copies)
    for body in copies:
        sqs.send_message(QueueUrl=stack.local.queue_url, MessageBody=body)
    # Nothing fails here, so no copy may come back through a visibility timeout:
    # the fixture's one-second timeout let a slow worker's tenth message in a batch
    # reappear and be counted twice. The duplicates are the ones sent above.
    sqs.set_queue_attributes(QueueUrl=stack.local.queue_url, Attributes={"VisibilityTimeout": "60"})

    stack.start_workers(2)
    wait_for(lambda: stack.queued() == 0, 60, "every copy to be handled")
    stack_handled = sum(worker.processed for worker in stack.workers)
    assert stack_handled == len(copies) > len(ids)

    assert all_ready(ids)
    assert_one_signal_each(signals, ids)


def test_worker_killed_mid_upload_is_redelivered_and_finished(
    alice_client, stack, endpoint, signals
) -> None:
    """SIGKILL the worker process while its callback is in flight; a new worker finishes."""
    endpoint.up("hold")
    worker = subprocess.Popen(
        [
            sys.executable, "-m", "tests.reliability.worker_process", stack.local.endpoint_url,
            stack.local.bucket, stack.local.queue_url, json.dumps(stack.environment),
        ],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        upload_id = upload_photo(alice_client, jpeg_bytes())
        assert endpoint.arrived.wait(30), "the worker never reached the callback"
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=10)
    finally:
        if worker.poll() is None:
            worker.kill()
    endpoint.up("pass")
    endpoint.released.set()
    assert statuses([upload_id]) == Counter({Status.PENDING: 1})

    stack.start_workers(1)  # a fresh "Lambda": the message comes back after the timeout
    wait_for(lambda: all_ready([upload_id]), 30, "the redelivered event to finish the upload")
    wait_for(lambda: stack.queued() == 0, 15, "the queue to drain")
    assert_one_signal_each(signals, [upload_id])


def test_outage_longer_than_every_retry_is_finished_by_reconcile(
    alice_client, stack, endpoint, signals
) -> None:
    """The event is parked in a dead-letter queue; the manifest in S3 is enough."""
    sqs = stack.sqs
    dlq_url = sqs.create_queue(QueueName=f"{stack.queue_name}-dlq")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    sqs.set_queue_attributes(
        QueueUrl=stack.local.queue_url,
        Attributes={
            "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": "2"})
        },
    )
    endpoint.up("error")
    stack.start_workers(1)
    ids = [upload_photo(alice_client, jpeg_bytes()) for _ in range(2)]
    wait_for(
        lambda: (
            int(
                sqs.get_queue_attributes(
                    QueueUrl=dlq_url, AttributeNames=["ApproximateNumberOfMessages"]
                )["Attributes"]["ApproximateNumberOfMessages"]
            )
            == 2
        ),
        45,
        "both events to be dead-lettered",
    )
    endpoint.up("pass")
    assert statuses(ids) == Counter({Status.PENDING: 2})

    report = reconcile()

    assert sorted(report.subjects(Action.FINISHED_READY)) == sorted(ids)
    assert all_ready(ids)
    assert_one_signal_each(signals, ids)
