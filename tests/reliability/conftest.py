"""Fixtures for the reliability tests: the real Lambda handler against moto over HTTP."""

from __future__ import annotations

import io
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from PIL import Image

from async_image_upload.conf import upload_settings
from async_image_upload.local.worker import LambdaContext
from async_image_upload.testing import s3_event


def jpeg_bytes(width: int = 96, height: int = 64) -> bytes:
    """A small real JPEG: big enough for every variant, quick for the pipeline."""
    image = Image.linear_gradient("L").resize((width, height)).convert("RGB")
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=85)
    return buffer.getvalue()


@pytest.fixture
def put_source(upload_bucket: Any) -> Callable[..., dict[str, Any]]:
    """Upload bytes to an upload's temp key as the presigned POST would; returns its event."""

    def put(upload: Any, data: bytes | None = None) -> dict[str, Any]:
        data = jpeg_bytes() if data is None else data
        key = upload.temp_key
        upload_bucket.client.put_object(
            Bucket=upload_bucket.name,
            Key=key,
            Body=data,
            ContentType=upload.content_type,
            Metadata={
                "upload-id": str(upload.pk),
                "variants": ",".join(upload.requested_variants),
                "blur-radius": str(upload.blur_radius),
            },
        )
        head = upload_bucket.client.head_object(Bucket=upload_bucket.name, Key=key)
        return s3_event(upload_bucket.name, key, head["ContentLength"], head["ETag"].strip('"'))

    return put


@pytest.fixture
def run_lambda(monkeypatch: pytest.MonkeyPatch, upload_bucket: Any) -> Iterator[Callable[..., Any]]:
    """The production handler with the callback switched off: a callback that never arrives.

    It still writes outputs and the manifest and deletes the source, exactly as
    when the callback is sent but lost on the way.
    """
    from lambda_function import config as lambda_config
    from lambda_function.handler import lambda_handler

    monkeypatch.setenv("TEMP_FOLDER", upload_settings.TEMP_PREFIX)
    monkeypatch.setenv("IMAGE_FOLDER", upload_settings.IMAGE_PREFIX)
    monkeypatch.setenv("CALLBACK_URL", "")
    monkeypatch.setenv("S3_ENDPOINT_URL", upload_bucket.endpoint_url)
    lambda_config.get_config.cache_clear()

    def run(event: dict[str, Any]) -> Any:
        return lambda_handler(event, LambdaContext(timeout_s=30))

    yield run
    lambda_config.get_config.cache_clear()


#: Variables the Lambda reads; the in-process workers set them in os.environ.
LAMBDA_ENV_NAMES = (
    "TEMP_FOLDER", "IMAGE_FOLDER", "CALLBACK_URL", "CALLBACK_SECRET", "S3_ENDPOINT_URL",
    "BLUR", "BLUR_RADIUS", "MAX_SOURCE_BYTES", "THUMB_DIMENSION_SMALL", "THUMB_DIMENSION_MEDIUM",
    "THUMB_DIMENSION_LARGE", "CALLBACK_TIMEOUT", "CALLBACK_MAX_ATTEMPTS", "FUNCTION_MEMORY_MB",
)  # fmt: skip


@pytest.fixture
def make_stack(settings: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., Any]]:
    """Start the local stack (embedded S3, its event queue) calling back to ``callback_url``.

    Workers are started by the test. Django's settings point at the embedded S3;
    extra keyword arguments become Lambda environment variables.
    """
    from async_image_upload.local.environment import lambda_environment_values
    from async_image_upload.local.s3 import LOCAL_CREDENTIALS, QUEUE_NAME, start_local_s3
    from tests.reliability.faults import free_port
    from tests.reliability.stack import REDELIVERY_S, Stack

    # The local stack and its workers write os.environ; register every name so
    # monkeypatch puts the test process back as it was.
    for name, value in LOCAL_CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)
    for name in LAMBDA_ENV_NAMES:
        monkeypatch.setenv(name, "")
    started: list[Stack] = []

    def make(callback_url: str, **lambda_env: str) -> Stack:
        # moto keeps one in-memory AWS per process: a bucket of our own, queues deleted after.
        local = start_local_s3(
            host="127.0.0.1",
            port=free_port(),
            bucket=f"reliability-{uuid.uuid4().hex[:8]}",
            temp_prefix="temp/",
            cors_origins=["http://127.0.0.1"],
        )
        local.client("sqs").set_queue_attributes(
            QueueUrl=local.queue_url, Attributes={"VisibilityTimeout": str(REDELIVERY_S)}
        )
        settings.ASYNC_IMAGE_UPLOAD = {
            **settings.ASYNC_IMAGE_UPLOAD,
            "BUCKET": local.bucket,
            "ENDPOINT_URL": local.endpoint_url,
            "PUBLIC_ENDPOINT_URL": local.endpoint_url,
            "CALLBACK_URL": callback_url,
            "MAX_PENDING_PER_USER": 1000,
            "THROTTLE_RATE": "100000/minute",
            "STATUS_THROTTLE_RATE": "100000/minute",
        }
        environment = lambda_environment_values(
            callback_url=callback_url, s3_endpoint_url=local.endpoint_url
        )
        environment.update(lambda_env)
        stack = Stack(local, environment, queue_name=QUEUE_NAME)
        started.append(stack)
        return stack

    yield make
    for stack in started:
        stack.close()
