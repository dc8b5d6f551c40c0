"""The handler end to end: moto's S3 server over HTTP and a real callback endpoint."""

from __future__ import annotations

import io
import json
import re
import uuid
from typing import Any

import pytest
from PIL import Image

from async_image_upload.testing.events import s3_record
from lambda_function import handler as handler_module
from lambda_function.errors import CallbackError, ErrorCode, ImageError
from lambda_function.handler import lambda_handler
from lambda_function.signing import SIGNATURE_HEADER, TIMESTAMP_HEADER, verify
from lambda_function.storage import CACHE_CONTROL

from . import images
from .conftest import SECRET, CallbackServer, FakeContext, Reply

CONTRACT_VARIANT_FIELDS = {
    "name", "key", "blurred", "width", "height", "display_width", "display_height", "bytes",
    "content_type",
}  # fmt: skip


def s3_event(bucket: str, *keys: str, event_name: str = "ObjectCreated:Post") -> dict[str, Any]:
    """One event with a record per key (repeats allowed), each in the shipped S3 shape."""
    return {"Records": [s3_record(bucket, key, event_name=event_name) for key in keys]}


def upload(s3: Any, bucket: str, data: bytes, prefix: str = "temp/", **metadata: str) -> str:
    upload_id = str(uuid.uuid4())
    s3.put_object(
        Bucket=bucket, Key=f"{prefix}{upload_id}", Body=data, Metadata=metadata,
        ContentType="image/jpeg",
    )  # fmt: skip
    return upload_id


def keys(s3: Any, bucket: str) -> set[str]:
    return {item["Key"] for item in s3.list_objects_v2(Bucket=bucket).get("Contents", [])}


def assert_signed(server: CallbackServer) -> None:
    for request in server.requests:
        headers = request["headers"]
        assert verify(
            ["old-rotated-secret", SECRET],
            request["body"],
            headers[TIMESTAMP_HEADER],
            headers[SIGNATURE_HEADER],
        )
        assert not verify(
            ["wrong"], request["body"], headers[TIMESTAMP_HEADER], headers[SIGNATURE_HEADER]
        )


def test_ready_upload_stores_variants_manifest_and_calls_back(
    s3: Any, bucket: str, callback_server: CallbackServer, context: FakeContext
) -> None:
    upload_id = upload(s3, bucket, images.jpeg(orientation=6))
    result = lambda_handler(s3_event(bucket, f"temp/{upload_id}"), context)

    assert result == {"records": 1, "outcomes": ["ready"]}
    prefix = f"image/{upload_id}/"
    assert keys(s3, bucket) == {
        f"{prefix}{name}"
        for name in (
            "50x50.jpg",
            "50x50_blur.jpg",
            "100x100.jpg",
            "100x100_blur.jpg",
            "400x400.jpg",
            "400x400_blur.jpg",
            "original.jpg",
            "original_blur.jpg",
            "manifest.json",
            "claim.json",
        )
    }  # the source is gone
    thumbnail = s3.get_object(Bucket=bucket, Key=f"{prefix}400x400.jpg")
    assert thumbnail["ContentType"] == "image/jpeg"
    assert thumbnail["CacheControl"] == CACHE_CONTROL
    assert Image.open(io.BytesIO(thumbnail["Body"].read())).size == (400, 267)

    assert_signed(callback_server)
    (payload,) = callback_server.payloads()
    assert payload["version"] == 1
    assert payload["upload_id"] == upload_id
    assert payload["status"] == "ready"
    assert payload["error"] is None
    assert payload["source"]["key"] == f"temp/{upload_id}"
    assert payload["source"]["format"] == "JPEG"
    assert (payload["source"]["width"], payload["source"]["height"]) == (600, 400)
    assert payload["placeholder"].startswith("data:image/webp;base64,")
    assert len(payload["variants"]) == 8
    for variant in payload["variants"]:
        assert set(variant) == CONTRACT_VARIANT_FIELDS
        stored = s3.head_object(Bucket=bucket, Key=variant["key"])
        assert stored["ContentLength"] == variant["bytes"]
    manifest = json.loads(s3.get_object(Bucket=bucket, Key=f"{prefix}manifest.json")["Body"].read())
    assert manifest["callback"] == payload
    assert manifest["source_etag"] == payload["source"]["etag"]


def test_keys_with_spaces_plus_and_unicode_are_decoded(
    s3: Any, bucket: str, callback_server: CallbackServer, context: FakeContext,
    monkeypatch: pytest.MonkeyPatch, reload_config: Any,
) -> None:  # fmt: skip
    monkeypatch.setenv("TEMP_FOLDER", "uploads in+progress/fotos ünï/")
    reload_config()
    upload_id = upload(s3, bucket, images.jpeg(), prefix="uploads in+progress/fotos ünï/")
    event = s3_event(bucket, f"uploads in+progress/fotos ünï/{upload_id}")
    assert "+" in event["Records"][0]["s3"]["object"]["key"]  # the space, encoded by S3
    assert lambda_handler(event, context)["outcomes"] == ["ready"]
    assert callback_server.payloads()[0]["source"]["key"].startswith("uploads in+progress/")


def test_multiple_records_and_duplicates_in_one_event(
    s3: Any, bucket: str, callback_server: CallbackServer, context: FakeContext
) -> None:
    first = upload(s3, bucket, images.jpeg())
    second = upload(s3, bucket, images.png(images.quadrants()))
    event = s3_event(bucket, f"temp/{first}", f"temp/{second}", f"temp/{first}")
    result = lambda_handler(event, context)
    assert result["outcomes"] == ["ready", "ready", "resent"]
    payloads = callback_server.payloads()
    assert [p["upload_id"] for p in payloads] == [first, second, first]
    assert payloads[2] == payloads[0]  # the duplicate resends the very same facts
    assert_signed(callback_server)


def test_late_duplicate_with_kept_source_is_not_processed_again(
    s3: Any, bucket: str, callback_server: CallbackServer, context: FakeContext,
    monkeypatch: pytest.MonkeyPatch, reload_config: Any,
) -> None:  # fmt: skip
    monkeypatch.setenv("KEEP_SOURCE", "on")
    reload_config()
    upload_id = upload(s3, bucket, images.jpeg())
    event = s3_event(bucket, f"temp/{upload_id}")
    lambda_handler(event, context)
    manifest_key = f"image/{upload_id}/manifest.json"
    written = s3.head_object(Bucket=bucket, Key=manifest_key)["ETag"]
    assert lambda_handler(event, context)["outcomes"] == ["resent"]
    assert s3.head_object(Bucket=bucket, Key=manifest_key)["ETag"] == written
    assert f"temp/{upload_id}" in keys(s3, bucket)

    # Same key, new bytes (a new ETag): the upload is final, the new source is kept.
    s3.put_object(
        Bucket=bucket, Key=f"temp/{upload_id}", Body=images.jpeg(images.quadrants(90, 60))
    )
    assert lambda_handler(event, context)["outcomes"] == ["source_replaced"]
    assert s3.head_object(Bucket=bucket, Key=manifest_key)["ETag"] == written
    assert callback_server.payloads()[-1] == callback_server.payloads()[0]
    assert f"temp/{upload_id}" in keys(s3, bucket)


def test_new_bytes_posted_to_a_finished_key_are_not_processed(
    s3: Any, bucket: str, callback_server: CallbackServer, context: FakeContext,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    """A presigned POST stays usable until it expires; the first result stays final."""
    upload_id = upload(s3, bucket, images.jpeg())
    event = s3_event(bucket, f"temp/{upload_id}")
    assert lambda_handler(event, context)["outcomes"] == ["ready"]
    prefix = f"image/{upload_id}/"
    stored = {key: s3.head_object(Bucket=bucket, Key=key)["ETag"] for key in keys(s3, bucket)}
    assert set(stored) == {key for key in stored if key.startswith(prefix)}  # source gone

    source_key = f"temp/{upload_id}"
    s3.put_object(Bucket=bucket, Key=source_key, Body=images.png(images.quadrants(90, 60)))
    new_etag = s3.head_object(Bucket=bucket, Key=source_key)["ETag"].strip('"')
    capsys.readouterr()
    assert lambda_handler(event, context)["outcomes"] == ["source_replaced"]

    # Outputs (served as immutable) and manifest untouched, the new source deleted.
    assert {key: s3.head_object(Bucket=bucket, Key=key)["ETag"] for key in keys(s3, bucket)} == (
        stored
    )
    first, resent = callback_server.payloads()
    assert resent == first and resent["source"]["format"] == "JPEG"
    assert_signed(callback_server)
    log = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert log["outcome"] == "source_replaced" and log["status"] == "ready"
    assert log["source_etag"] == new_etag
    assert log["manifest_source_etag"] == first["source"]["etag"]
    assert "get" not in log["timings_ms"]


def test_new_bytes_after_a_failed_result_are_not_processed(
    s3: Any, bucket: str, callback_server: CallbackServer, context: FakeContext
) -> None:
    upload_id = upload(s3, bucket, images.PDF)
    event = s3_event(bucket, f"temp/{upload_id}")
    assert lambda_handler(event, context)["outcomes"] == ["failed"]
    s3.put_object(Bucket=bucket, Key=f"temp/{upload_id}", Body=images.jpeg())
    assert lambda_handler(event, context)["outcomes"] == ["source_replaced"]
    assert [p["status"] for p in callback_server.payloads()] == ["failed", "failed"]
    assert keys(s3, bucket) == {
        f"image/{upload_id}/{name}" for name in ("manifest.json", "claim.json")
    }


def test_unusable_upload_is_a_failed_callback_not_a_retry(
    s3: Any, bucket: str, callback_server: CallbackServer, context: FakeContext
) -> None:
    upload_id = upload(s3, bucket, images.PDF)
    assert lambda_handler(s3_event(bucket, f"temp/{upload_id}"), context)["outcomes"] == ["failed"]
    (payload,) = callback_server.payloads()
    assert payload["status"] == "failed"
    assert payload["error"]["code"] == "unsupported_format"
    assert payload["variants"] == [] and payload["placeholder"] is None
    assert payload["source"]["bytes"] == len(images.PDF)
    assert keys(s3, bucket) == {
        f"image/{upload_id}/{name}" for name in ("manifest.json", "claim.json")
    }


def test_byte_cap_is_enforced_from_head_without_downloading(
    s3: Any, bucket: str, callback_server: CallbackServer, context: FakeContext,
    monkeypatch: pytest.MonkeyPatch, reload_config: Any, capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    monkeypatch.setenv("MAX_SOURCE_BYTES", "1000")
    reload_config()
    upload_id = upload(s3, bucket, images.jpeg())
    lambda_handler(s3_event(bucket, f"temp/{upload_id}"), context)
    assert callback_server.payloads()[0]["error"]["code"] == "too_large"
    log = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert log["upload_id"] == upload_id and log["outcome"] == "failed"
    assert "get" not in log["timings_ms"]


def test_missing_source_without_manifest_reports_not_found(
    bucket: str, callback_server: CallbackServer, context: FakeContext
) -> None:
    upload_id = str(uuid.uuid4())
    lambda_handler(s3_event(bucket, f"temp/{upload_id}"), context)
    (payload,) = callback_server.payloads()
    assert payload["status"] == "failed" and payload["error"]["code"] == "not_found"


def test_metadata_overrides_variants_and_malformed_metadata_falls_back(
    s3: Any, bucket: str, callback_server: CallbackServer, context: FakeContext
) -> None:
    custom = upload(s3, bucket, images.jpeg(), variants="64x64,original", **{"blur-radius": "0"})
    broken = upload(s3, bucket, images.jpeg(), variants="huge,../../etc", **{"blur-radius": "x"})
    lambda_handler(s3_event(bucket, f"temp/{custom}", f"temp/{broken}"), context)
    custom_payload, broken_payload = callback_server.payloads()
    assert [(v["name"], v["blurred"]) for v in custom_payload["variants"]] == [
        ("64x64", False),
        ("original", False),
    ]
    assert len(broken_payload["variants"]) == 8


def test_ignored_events_and_keys(
    s3: Any, bucket: str, callback_server: CallbackServer, context: FakeContext,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    test_event = {"Service": "Amazon S3", "Event": "s3:TestEvent", "Bucket": bucket}
    assert lambda_handler(test_event, context)["records"] == 0
    s3.put_object(Bucket=bucket, Key="temp/not-a-uuid.jpg", Body=images.jpeg())
    event = s3_event(bucket, "elsewhere/photo.jpg", "temp/not-a-uuid.jpg")
    assert lambda_handler(event, context)["outcomes"] == ["skipped", "skipped"]
    assert callback_server.requests == []
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [line.get("reason") for line in lines] == [
        "s3_test_event", "outside_temp_prefix", "key_is_not_an_upload_id",
    ]  # fmt: skip
    assert "temp/not-a-uuid.jpg" in keys(s3, bucket)


def test_callback_500_is_retried_then_succeeds(
    s3: Any, bucket: str, callback_server: CallbackServer, context: FakeContext,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    callback_server.responses = [500, 503]
    upload_id = upload(s3, bucket, images.jpeg())
    assert lambda_handler(s3_event(bucket, f"temp/{upload_id}"), context)["outcomes"] == ["ready"]
    assert len(callback_server.requests) == 3
    assert_signed(callback_server)
    log = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert log["callback"] == {"status": 200, "attempts": 3}
    # The budget's estimate is logged for comparison with Lambda's measured peak.
    assert isinstance(log["memory_estimate_mb"], int) and log["memory_estimate_mb"] > 0


def test_persistent_outage_raises_and_a_later_retry_resends(
    s3: Any, bucket: str, callback_server: CallbackServer, context: FakeContext
) -> None:
    callback_server.default_status = 503
    upload_id = upload(s3, bucket, images.jpeg())
    event = s3_event(bucket, f"temp/{upload_id}")
    with pytest.raises(CallbackError):
        lambda_handler(event, context)
    assert len(callback_server.requests) == 3  # CALLBACK_MAX_ATTEMPTS
    assert f"temp/{upload_id}" in keys(s3, bucket)  # kept until the callback lands

    callback_server.default_status = 200
    assert lambda_handler(event, context)["outcomes"] == ["resent"]
    assert callback_server.payloads()[-1]["status"] == "ready"
    assert f"temp/{upload_id}" not in keys(s3, bucket)


@pytest.mark.parametrize("status", [400, 401, 403, 413])
def test_callback_4xx_is_not_retried(
    s3: Any, bucket: str, callback_server: CallbackServer, context: FakeContext, status: int
) -> None:
    """A config fix (secret, URL, body limit) and a replay can cure these: keep the event."""
    callback_server.default_status = status
    upload_id = upload(s3, bucket, images.jpeg())
    with pytest.raises(CallbackError, match=str(status)):
        lambda_handler(s3_event(bucket, f"temp/{upload_id}"), context)
    assert len(callback_server.requests) == 1
    assert f"temp/{upload_id}" in keys(s3, bucket)


def test_callback_408_and_429_are_retried(
    s3: Any, bucket: str, callback_server: CallbackServer, context: FakeContext
) -> None:
    callback_server.responses = [408, 429]
    upload_id = upload(s3, bucket, images.jpeg())
    assert lambda_handler(s3_event(bucket, f"temp/{upload_id}"), context)["outcomes"] == ["ready"]
    assert len(callback_server.requests) == 3


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_callback_redirect_is_not_followed(
    s3: Any, bucket: str, callback_server: CallbackServer, context: FakeContext, status: int
) -> None:
    """urllib would turn a 302 after POST into a GET; a login page's 200 is no delivery."""
    login = callback_server.url.replace("/uploads/callback/", "/accounts/login/?next=/x")
    callback_server.default_status = Reply(status, headers={"Location": login})
    upload_id = upload(s3, bucket, images.jpeg())
    expected = f"CALLBACK_URL redirects to {re.escape(login)}; configure the final URL"
    with pytest.raises(CallbackError, match=expected):
        lambda_handler(s3_event(bucket, f"temp/{upload_id}"), context)
    assert len(callback_server.requests) == 1  # not retried in the loop
    assert callback_server.gets == []  # not followed
    assert f"temp/{upload_id}" in keys(s3, bucket)  # kept for the event's retry


@pytest.mark.parametrize(
    ("reply", "detail"),
    [
        (
            Reply(404, json.dumps({"detail": "Unknown upload."}).encode()),
            "Unknown upload.",
        ),
        (
            Reply(409, b'{"detail": "Upload is already failed.", "status": "failed"}'),
            "Upload is already failed. (current status: failed)",
        ),
        (Reply(404, b"<html>\n<h1>Not Found</h1>\n</html>"), "<html> <h1>Not Found</h1> </html>"),
    ],
    ids=["404-json", "409-json", "404-html"],
)  # fmt: skip
def test_callback_404_and_409_are_rejected_not_retried(
    s3: Any, bucket: str, callback_server: CallbackServer, context: FakeContext,
    capsys: pytest.CaptureFixture[str], reply: Reply, detail: str,
) -> None:  # fmt: skip
    """No retry can change these: log ``rejected``, keep the manifest, delete the source."""
    callback_server.default_status = reply
    upload_id = upload(s3, bucket, images.jpeg())
    event = s3_event(bucket, f"temp/{upload_id}")
    assert lambda_handler(event, context)["outcomes"] == ["rejected"]  # did not raise
    assert len(callback_server.requests) == 1
    assert f"temp/{upload_id}" not in keys(s3, bucket)
    assert f"image/{upload_id}/manifest.json" in keys(s3, bucket)
    log = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert log["outcome"] == "rejected" and log["status"] == "ready"
    assert log["callback"] == {"status": reply.status, "attempts": 1, "detail": detail}


def test_rejected_detail_is_truncated_and_kept_source_stays(
    s3: Any, bucket: str, callback_server: CallbackServer, context: FakeContext,
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, reload_config: Any,
) -> None:  # fmt: skip
    monkeypatch.setenv("KEEP_SOURCE", "on")
    reload_config()
    callback_server.default_status = Reply(409, json.dumps({"detail": "y" * 5000}).encode())
    upload_id = upload(s3, bucket, images.PDF)
    assert lambda_handler(s3_event(bucket, f"temp/{upload_id}"), context)["outcomes"] == [
        "rejected"
    ]
    assert f"temp/{upload_id}" in keys(s3, bucket)
    log = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert log["status"] == "failed"
    assert len(log["callback"]["detail"]) == 300
    assert log["callback"]["detail"].endswith("\N{HORIZONTAL ELLIPSIS}")


def test_other_records_still_run_when_one_fails_transiently(
    s3: Any, bucket: str, callback_server: CallbackServer, context: FakeContext
) -> None:
    callback_server.responses = [403]
    first = upload(s3, bucket, images.jpeg())
    second = upload(s3, bucket, images.jpeg())
    with pytest.raises(CallbackError):
        lambda_handler(s3_event(bucket, f"temp/{first}", f"temp/{second}"), context)
    assert [p["upload_id"] for p in callback_server.payloads()] == [first, second]


def test_no_time_left_means_no_attempt(
    s3: Any, bucket: str, callback_server: CallbackServer
) -> None:
    upload_id = upload(s3, bucket, images.jpeg())
    with pytest.raises(CallbackError, match="0 attempt"):
        lambda_handler(s3_event(bucket, f"temp/{upload_id}"), FakeContext(remaining_ms=500))
    assert callback_server.requests == []


def test_long_failure_message_is_truncated_in_callback_and_manifest(
    s3: Any, bucket: str, callback_server: CallbackServer, context: FakeContext,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    def refuse(data: bytes, spec: Any, checkpoint: Any = None) -> Any:
        raise ImageError(ErrorCode.CORRUPT, "broken: " + "x" * 5000)

    monkeypatch.setattr(handler_module, "process", refuse)
    upload_id = upload(s3, bucket, images.jpeg())
    assert lambda_handler(s3_event(bucket, f"temp/{upload_id}"), context)["outcomes"] == ["failed"]
    (payload,) = callback_server.payloads()
    message = payload["error"]["message"]
    assert len(message) == 500  # Django refuses more than 2000 with a 400
    assert message.startswith("broken: xxx") and message.endswith("\N{HORIZONTAL ELLIPSIS}")
    manifest_key = f"image/{upload_id}/manifest.json"
    manifest = json.loads(s3.get_object(Bucket=bucket, Key=manifest_key)["Body"].read())
    assert manifest["callback"] == payload


def test_handle_takes_its_configuration_as_an_argument(
    s3: Any, bucket: str, callback_server: CallbackServer, context: FakeContext,
    lambda_env: dict[str, str], monkeypatch: pytest.MonkeyPatch, reload_config: Any,
) -> None:  # fmt: skip
    """In-process runners pass a config; the process environment is not read at all."""
    from lambda_function.config import load_config

    config = load_config({**lambda_env, "IMAGE_FOLDER": "elsewhere/", "KEEP_SOURCE": "on"})
    monkeypatch.setenv("CALLBACK_URL", "http://127.0.0.1:9/never-called/")
    monkeypatch.setenv("IMAGE_FOLDER", "wrong/")
    reload_config()
    upload_id = upload(s3, bucket, images.jpeg())

    result = handler_module.handle(s3_event(bucket, f"temp/{upload_id}"), context, config)

    assert result == {"records": 1, "outcomes": ["ready"]}
    assert f"elsewhere/{upload_id}/manifest.json" in keys(s3, bucket)
    assert f"temp/{upload_id}" in keys(s3, bucket)  # KEEP_SOURCE from the config
    assert [payload["upload_id"] for payload in callback_server.payloads()] == [upload_id]


def test_lambda_handler_reads_the_environment_once_per_cold_start(
    s3: Any, bucket: str, callback_server: CallbackServer, context: FakeContext,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    first = upload(s3, bucket, images.jpeg())
    assert lambda_handler(s3_event(bucket, f"temp/{first}"), context)["outcomes"] == ["ready"]
    monkeypatch.setenv("IMAGE_FOLDER", "changed-after-the-cold-start/")
    second = upload(s3, bucket, images.jpeg())
    assert lambda_handler(s3_event(bucket, f"temp/{second}"), context)["outcomes"] == ["ready"]
    assert f"image/{second}/manifest.json" in keys(s3, bucket)
