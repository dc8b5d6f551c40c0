"""In-process runners configure the Lambda from a mapping and never touch os.environ.

The local stack and the load benchmark run several workers as threads of one
process (each may have its own variables), next to Django; replay --local runs
the handler inside a management command.
"""

from __future__ import annotations

import json
import os
from typing import Any

import pytest

from async_image_upload.dead_letters import DeadLetter, ReplayError
from async_image_upload.local.invoker import LocalInvoker
from async_image_upload.local.s3 import LocalS3
from async_image_upload.local.worker import EventWorker
from lambda_function.errors import ConfigError

TEST_EVENT = {"Event": "s3:TestEvent"}  # handled without any S3 call


def letter(payload: dict[str, Any]) -> DeadLetter:
    return DeadLetter(message_id="m", receipt_handle="r", request_payload=payload, condition="x")


class RecordingSQS:
    def __init__(self) -> None:
        self.deleted: list[str] = []

    def delete_message(self, QueueUrl: str, ReceiptHandle: str) -> None:
        self.deleted.append(ReceiptHandle)


def worker(environment: dict[str, str]) -> EventWorker:
    local = LocalS3(endpoint_url="http://127.0.0.1:9", bucket="b", queue_url="q", server=None)
    return EventWorker(local, environment)


def test_workers_in_one_process_each_keep_their_own_configuration() -> None:
    before = dict(os.environ)
    first, second = worker({"IMAGE_FOLDER": "first/"}), worker({"IMAGE_FOLDER": "second/"})
    assert (first.config.image_prefix, second.config.image_prefix) == ("first/", "second/")
    sqs = RecordingSQS()
    first.handle(
        first.configure_lambda(), sqs, {"Body": json.dumps(TEST_EVENT), "ReceiptHandle": "h1"}
    )
    assert sqs.deleted == ["h1"] and first.processed == 1
    assert dict(os.environ) == before


def test_a_bad_environment_fails_each_event_and_keeps_it_queued() -> None:
    bad = worker({"BLUR_RADIUS": "999"})
    sqs = RecordingSQS()
    message = {"Body": json.dumps(TEST_EVENT), "ReceiptHandle": "h1"}
    for _ in range(2):  # not cached: a fixed environment would be read on the next event
        bad.handle(bad.configure_lambda(), sqs, message)
    assert sqs.deleted == [] and bad.processed == 0
    with pytest.raises(ConfigError, match="BLUR_RADIUS"):
        _ = bad.config


def test_local_invoker_passes_its_configuration_without_touching_os_environ() -> None:
    before = dict(os.environ)
    LocalInvoker({"IMAGE_FOLDER": "replayed/"})(letter(TEST_EVENT))
    assert dict(os.environ) == before
    with pytest.raises(ReplayError, match="ConfigError: BLUR_RADIUS"):
        LocalInvoker({"BLUR_RADIUS": "999"})(letter(TEST_EVENT))
