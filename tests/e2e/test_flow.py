"""The whole flow with real parts: Django API → S3 (moto over HTTP) → the bundled
Lambda handler → signed HTTP callback into a live Django server → signal.

Only AWS's event delivery is simulated: the S3 notification is built in AWS's
shape and handed to the very handler production runs.
"""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
import requests
from PIL import Image

from async_image_upload import ImageUpload, Status, upload_status_changed
from async_image_upload.conf import upload_settings
from async_image_upload.local.worker import LambdaContext
from async_image_upload.testing import s3_event

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def lambda_env(monkeypatch, live_server, upload_bucket):
    from lambda_function import config as lambda_config

    monkeypatch.setenv("TEMP_FOLDER", upload_settings.TEMP_PREFIX)
    monkeypatch.setenv("IMAGE_FOLDER", upload_settings.IMAGE_PREFIX)
    monkeypatch.setenv("CALLBACK_URL", f"{live_server.url}/uploads/callback/")
    monkeypatch.setenv("CALLBACK_SECRET", upload_settings.callback_secrets[0])
    monkeypatch.setenv("S3_ENDPOINT_URL", upload_bucket.endpoint_url)
    lambda_config.get_config.cache_clear()
    yield upload_bucket
    lambda_config.get_config.cache_clear()


def photo_with_gps(width: int, height: int) -> bytes:
    image = Image.new("RGB", (width, height))
    for x in range(0, width, 8):
        for y in range(0, height, 8):
            image.putpixel((x, y), (x % 256, y % 256, 128))
    exif = Image.Exif()
    exif[0x010F] = "CameraMaker"
    exif[0x8825] = {1: "N", 2: (51.0, 30.0, 0.0)}  # GPSInfo
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=90, exif=exif)
    return buffer.getvalue()


def upload_through_api(client, bucket, payload: bytes, content_type: str = "image/jpeg") -> str:
    response = client.post(
        "/uploads/",
        {
            "field": "testapp.Photo.image",
            "filename": "x.jpg",
            "content_type": content_type,
            "size": len(payload),
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    data = response.json()
    sent = requests.post(data["url"], data=data["fields"], files={"file": payload}, timeout=10)
    assert sent.status_code in (200, 201, 204), sent.text
    return data["id"]


def event_for(bucket, upload_id: str) -> dict[str, Any]:
    key = f"{upload_settings.TEMP_PREFIX}{upload_id}"
    head = bucket.client.head_object(Bucket=bucket.name, Key=key)
    return s3_event(bucket.name, key, head["ContentLength"], head["ETag"].strip('"'))


def run_lambda(event: dict[str, Any]) -> dict[str, Any]:
    from lambda_function.handler import lambda_handler

    return lambda_handler(event, LambdaContext(timeout_s=30))


def test_photo_in_thumbnails_out(alice_client, lambda_env) -> None:
    bucket = lambda_env
    received: list[tuple[str, str]] = []

    def on_change(upload, previous_status, status, **kwargs):
        received.append((previous_status, status))

    upload_status_changed.connect(on_change)
    try:
        upload_id = upload_through_api(alice_client, bucket, photo_with_gps(1200, 900))
        event = event_for(bucket, upload_id)
        assert run_lambda(event)["outcomes"] == ["ready"]
        # S3 delivers at least once: the same event again, after the source is gone,
        # resends the callback from the manifest — no second transition or signal.
        assert run_lambda(event)["outcomes"] == ["resent"]
    finally:
        upload_status_changed.disconnect(on_change)

    assert received == [("pending", "ready")]
    upload = ImageUpload.objects.get(pk=upload_id)
    assert upload.status == Status.READY
    assert (upload.source_width, upload.source_height) == (1200, 900)
    status = alice_client.get(f"/uploads/{upload_id}/").json()
    sharp = {v["name"]: v for v in status["variants"] if not v["blurred"]}
    assert set(sharp) == {"50x50", "100x100", "400x400", "original"}
    assert (sharp["400x400"]["width"], sharp["400x400"]["height"]) == (400, 300)
    assert status["placeholder"].startswith("data:image/")
    # Every variant URL serves a real image of the reported size, without EXIF/GPS.
    for variant in status["variants"]:
        image = Image.open(io.BytesIO(requests.get(variant["url"], timeout=10).content))
        assert image.size == (variant["width"], variant["height"])
        assert 0x8825 not in image.getexif() and 0x010F not in image.getexif()
    # The source is gone from temp/ after success, and the manifest was written.
    leftovers = bucket.client.list_objects_v2(Bucket=bucket.name, Prefix="temp/")
    assert leftovers.get("KeyCount", 0) == 0
    manifest = bucket.client.get_object(Bucket=bucket.name, Key=f"image/{upload_id}/manifest.json")
    assert json.loads(manifest["Body"].read())["callback"]["upload_id"] == upload_id


def test_a_text_file_renamed_jpg_ends_failed_with_a_code(alice_client, lambda_env) -> None:
    bucket = lambda_env
    upload_id = upload_through_api(alice_client, bucket, b"just some text, not a photo\n" * 10)
    run_lambda(event_for(bucket, upload_id))
    status = alice_client.get(f"/uploads/{upload_id}/").json()
    assert status["status"] == "failed"
    assert status["error"]["code"] == "unsupported_format"
    assert status["error"]["message"]
