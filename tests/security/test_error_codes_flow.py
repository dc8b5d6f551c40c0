"""Every image error code the real flow can reach ends ``failed`` with a message,
visible to the owner through the status endpoint.

The real parts run: the API presigns, the bytes go to S3 (moto's server over
HTTP) with the presigned POST, the bundled Lambda handler processes the S3 event
and signs its callback to a live Django server. Only AWS's event delivery is
simulated (tests/e2e/test_flow.py builds the event in AWS's shape). The Lambda's
limits are lowered through its own environment variables so that small files
reach each limit quickly.
"""

from __future__ import annotations

import io
from typing import Any

import pytest
from PIL import Image

from async_image_upload.testing import s3_event
from lambda_function.errors import ErrorCode
from tests.e2e.test_flow import (  # noqa: F401  (lambda_env is a fixture)
    event_for,
    lambda_env,
    run_lambda,
    upload_through_api,
)

pytestmark = pytest.mark.django_db(transaction=True)


def png(width: int, height: int) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (200, 30, 30)).save(buffer, "PNG")
    return buffer.getvalue()


def animated_gif(frames: int, side: int) -> bytes:
    # Frames of different colours: Pillow merges identical consecutive frames.
    images = [
        Image.new("RGB", (side, side), (index * 40, 255 - index * 40, 0)) for index in range(frames)
    ]
    buffer = io.BytesIO()
    images[0].save(buffer, "GIF", save_all=True, append_images=images[1:], duration=50, loop=0)
    return buffer.getvalue()


def truncated_jpeg() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 64), (10, 120, 200)).save(buffer, "JPEG")
    data = buffer.getvalue()
    return data[: len(data) // 2]


def comment_flood_jpeg(count: int = 600) -> bytes:
    """A JPEG with ``count`` empty COM segments: more than any real file (``too_complex``)."""
    buffer = io.BytesIO()
    Image.new("RGB", (64, 64), (10, 120, 200)).save(buffer, "JPEG")
    data = buffer.getvalue()
    return data[:2] + b"\xff\xfe\x00\x02" * count + data[2:]


def set_lambda_env(monkeypatch: pytest.MonkeyPatch, **values: str) -> None:
    from lambda_function import config as lambda_config

    for name, value in values.items():
        monkeypatch.setenv(name, value)
    lambda_config.get_config.cache_clear()


def status_of(client: Any, upload_id: str) -> dict[str, Any]:
    response = client.get(f"/uploads/{upload_id}/")
    assert response.status_code == 200
    return response.json()


@pytest.mark.parametrize(
    ("code", "payload", "content_type", "lambda_limits"),
    [
        (
            ErrorCode.UNSUPPORTED_FORMAT,
            b"<svg xmlns='http://www.w3.org/2000/svg'/>",
            "image/png",
            {},
        ),
        (ErrorCode.TOO_MANY_PIXELS, png(200, 200), "image/png", {"MAX_PIXELS": "10000"}),
        (ErrorCode.TOO_LARGE, png(300, 300), "image/png", {"MAX_SOURCE_BYTES": "100"}),
        (ErrorCode.CORRUPT, truncated_jpeg(), "image/jpeg", {}),
        (
            ErrorCode.ANIMATION_TOO_LARGE,
            animated_gif(frames=5, side=50),
            "image/gif",
            {"MAX_PIXELS": "10000", "MAX_ANIMATION_PIXELS": "10000"},
        ),
        (ErrorCode.TOO_COMPLEX, comment_flood_jpeg(), "image/jpeg", {}),
        # 9 MP of PNG needs about 117 MB by the budget: a 128 MB function has 53 MB free.
        (ErrorCode.TOO_MUCH_MEMORY, png(3000, 3000), "image/png", {"FUNCTION_MEMORY_MB": "128"}),
    ],
    ids=[
        "unsupported_format",
        "too_many_pixels",
        "too_large",
        "corrupt",
        "animation_too_large",
        "too_complex",
        "too_much_memory",
    ],
)
def test_uploaded_bytes_that_cannot_be_processed_end_failed_with_their_code(
    alice_client: Any,
    lambda_env: Any,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
    code: ErrorCode,
    payload: bytes,
    content_type: str,
    lambda_limits: dict[str, str],
) -> None:
    set_lambda_env(monkeypatch, **lambda_limits)
    bucket = lambda_env
    upload_id = upload_through_api(alice_client, bucket, payload, content_type=content_type)
    outcome = run_lambda(event_for(bucket, upload_id))
    assert outcome["outcomes"] == ["failed"]
    status = status_of(alice_client, upload_id)
    assert status["status"] == "failed"
    assert status["error"]["code"] == code.value
    assert status["error"]["message"].strip()
    assert status["variants"] == []


def test_a_source_gone_before_processing_ends_failed_not_found(
    alice_client: Any,
    lambda_env: Any,  # noqa: F811
) -> None:
    """The event arrives but the object is gone (deleted, or a lifecycle rule ran first)."""
    bucket = lambda_env
    upload_id = upload_through_api(alice_client, bucket, png(32, 32), content_type="image/png")
    event = event_for(bucket, upload_id)
    bucket.client.delete_object(Bucket=bucket.name, Key=f"temp/{upload_id}")
    assert run_lambda(event)["outcomes"] == ["failed"]
    status = status_of(alice_client, upload_id)
    assert (status["status"], status["error"]["code"]) == ("failed", ErrorCode.NOT_FOUND.value)
    assert status["error"]["message"].strip()


def test_an_empty_object_ends_failed_empty(
    alice_client: Any,
    lambda_env: Any,  # noqa: F811
) -> None:
    """S3 refuses an empty POST (content-length-range starts at 1; tests/strict_s3 proves
    it), so an empty source can only come from outside the presigned flow. It is put
    directly here, and must still end as a clear failure rather than a stuck upload."""
    bucket = lambda_env
    upload_id = upload_through_api(alice_client, bucket, png(8, 8), content_type="image/png")
    key = f"temp/{upload_id}"
    bucket.client.put_object(Bucket=bucket.name, Key=key, Body=b"", ContentType="image/png")
    head = bucket.client.head_object(Bucket=bucket.name, Key=key)
    assert run_lambda(s3_event(bucket.name, key, 0, head["ETag"].strip('"')))["outcomes"] == [
        "failed"
    ]
    status = status_of(alice_client, upload_id)
    assert (status["status"], status["error"]["code"]) == ("failed", ErrorCode.EMPTY.value)
    assert status["error"]["message"].strip()


def test_every_error_code_is_covered_here() -> None:
    """A new code in lambda_function/errors.py must get a flow test in this module."""
    import inspect
    import sys

    source = inspect.getsource(sys.modules[__name__])
    missing = [code for code in ErrorCode if f"ErrorCode.{code.name}" not in source]
    assert missing == []


def test_an_upload_that_outlasts_the_deadline_ends_failed_processing_timeout(
    alice_client: Any,
    lambda_env: Any,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A stage still running when only the reserve is left: failed, never left pending."""
    import threading

    from async_image_upload.local.worker import LambdaContext
    from lambda_function import deadline, handler
    from lambda_function.handler import lambda_handler

    monkeypatch.setattr(deadline, "RESERVE_S", 3.0)  # room for the callback to live Django
    monkeypatch.setattr(deadline, "MIN_START_S", 0.1)
    monkeypatch.setattr(deadline, "MAX_SHARE", 1.0)
    release = threading.Event()
    monkeypatch.setattr(handler, "process", lambda *args, **kwargs: release.wait(60))
    bucket = lambda_env
    upload_id = upload_through_api(alice_client, bucket, png(32, 32), content_type="image/png")
    try:
        outcome = lambda_handler(event_for(bucket, upload_id), LambdaContext(timeout_s=3.6))
    finally:
        release.set()
        for worker in list(deadline._abandoned):
            worker.join(timeout=60)
    assert outcome["outcomes"] == ["failed"]
    status = status_of(alice_client, upload_id)
    assert (status["status"], status["error"]["code"]) == (
        "failed",
        ErrorCode.PROCESSING_TIMEOUT.value,
    )
    assert status["error"]["message"].strip()
