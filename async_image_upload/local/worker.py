"""Feeds S3 events from the queue to the bundled Lambda handler, as Lambda would."""

from __future__ import annotations

import functools
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from async_image_upload.local.lambda_loader import import_lambda_module
from async_image_upload.local.s3 import LocalS3, decode_event

logger = logging.getLogger("async_image_upload.local")


class LambdaContext:
    """The part of Lambda's context object the handler reads."""

    def __init__(self, timeout_s: float) -> None:
        self.aws_request_id = f"local-{time.monotonic_ns()}"
        self._deadline = time.monotonic() + timeout_s

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


class EventWorker(threading.Thread):
    """Long-polls the queue; deletes a message only after the handler succeeded.

    A handler that raises leaves the message on the queue, so it is delivered
    again after the visibility timeout — Lambda's own retry behaviour.
    """

    def __init__(self, local: LocalS3, environment: dict[str, str], timeout_s: float = 30) -> None:
        super().__init__(name="async-image-upload-lambda", daemon=True)
        self.local = local
        self.environment = environment
        self.timeout_s = timeout_s
        self.stopping = threading.Event()
        self.processed = 0

    @functools.cached_property
    def config(self) -> Any:
        """The Lambda's ``Config`` from this worker's own environment mapping.

        Parsed on first use, like a cold start, and never through ``os.environ``:
        several workers (each with its own variables) share one process. A bad
        value raises on every event until fixed, as the deployed function would.
        """
        return import_lambda_module("config").load_config(self.environment)

    def configure_lambda(self) -> Callable[..., Any]:
        """The handler's entry point that takes its configuration as an argument."""
        return import_lambda_module("handler").handle

    def run(self) -> None:
        handler = self.configure_lambda()
        sqs = self.local.client("sqs")
        while not self.stopping.is_set():
            try:
                response = sqs.receive_message(
                    QueueUrl=self.local.queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1
                )
            except Exception:  # the server is going away on shutdown; keep polling otherwise
                if self.stopping.is_set():
                    return
                logger.exception("Could not read the event queue")
                time.sleep(1)
                continue
            for message in response.get("Messages", []):
                self.handle(handler, sqs, message)

    def handle(self, handler: Any, sqs: Any, message: dict[str, Any]) -> None:
        try:
            result = handler(
                decode_event(message["Body"]), LambdaContext(self.timeout_s), self.config
            )
        except Exception:
            logger.exception("The Lambda raised; the event stays queued and will be retried")
            return
        sqs.delete_message(QueueUrl=self.local.queue_url, ReceiptHandle=message["ReceiptHandle"])
        self.processed += 1
        try:  # keep the new outputs on disk now, not only at a clean stop
            self.local.save()
        except Exception:
            logger.exception("Could not save the embedded S3's objects to disk")
        logger.debug("Lambda result: %s", result)

    def stop(self) -> None:
        self.stopping.set()
