"""The local stack in-process for fault tests: embedded S3 + event queue + Lambda workers.

Django is pytest-django's ``live_server``; the Lambda's callback reaches it
through a :class:`~tests.reliability.faults.FlakyEndpoint`. The queue's
visibility timeout is cut to a second so a redelivery takes a second, not 30.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import requests

from async_image_upload.local.s3 import LocalS3
from async_image_upload.local.worker import EventWorker

REDELIVERY_S = 1


@dataclass
class Stack:
    local: LocalS3
    environment: dict[str, str]
    queue_name: str = ""
    workers: list[EventWorker] = field(default_factory=list)

    @property
    def sqs(self) -> Any:
        return self.local.client("sqs")

    def start_workers(self, count: int = 1) -> None:
        for _ in range(count):
            worker = EventWorker(self.local, self.environment, timeout_s=30)
            worker.start()
            self.workers.append(worker)

    def stop_workers(self) -> None:
        for worker in self.workers:
            worker.stop()
        for worker in self.workers:
            worker.join(timeout=40)
        self.workers.clear()

    def close(self) -> None:
        """Stop the workers, delete the queues this test made, stop the server."""
        self.stop_workers()
        for url in self.sqs.list_queues().get("QueueUrls", []):
            if url.rsplit("/", 1)[-1] in (self.queue_name, f"{self.queue_name}-dlq"):
                self.sqs.delete_queue(QueueUrl=url)
        self.local.stop()

    def queued(self) -> int:
        """Messages waiting plus in flight (received, not yet deleted)."""
        attributes = self.sqs.get_queue_attributes(
            QueueUrl=self.local.queue_url,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        return sum(int(value) for value in attributes.values())


def upload_photo(client: Any, photo: bytes) -> str:
    """Presign through the API, then POST the form to the embedded S3, as an app does."""
    response = client.post(
        "/uploads/",
        {"field": "", "filename": "p.jpg", "content_type": "image/jpeg", "size": len(photo)},
        format="json",
    )
    assert response.status_code == 201, response.content
    data = response.json()
    sent = requests.post(data["url"], data=data["fields"], files={"file": photo}, timeout=10)
    assert sent.status_code in (200, 201, 204), sent.text
    return str(data["id"])


def wait_for(condition: Callable[[], bool], timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"Timed out after {timeout_s:.0f} s waiting for {what}")
        time.sleep(0.1)
