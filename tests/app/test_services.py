"""The Lambda's callback: signatures, validation, idempotency, races."""

from __future__ import annotations

import json
import threading
import time

import pytest
from django.db import connection

from async_image_upload import ImageUpload, Status, upload_status_changed
from async_image_upload.conf import derive_callback_secret
from async_image_upload.signing import sign
from async_image_upload.testing import callback_payload, post_callback, signed_callback_headers

pytestmark = pytest.mark.django_db
URL = "/uploads/callback/"


@pytest.fixture
def signals():
    received = []

    def receiver(upload, previous_status, status, **kwargs):
        received.append((upload.pk, previous_status, status))

    upload_status_changed.connect(receiver)
    yield received
    upload_status_changed.disconnect(receiver)


def raw_post(client, body: bytes, headers: dict[str, str]):
    return client.generic("POST", URL, body, content_type="application/json", headers=headers)


def test_good_callback_marks_ready_and_signals_once(
    api_client, make_upload, signals, django_capture_on_commit_callbacks
) -> None:
    upload = make_upload()
    with django_capture_on_commit_callbacks(execute=True):
        response = post_callback(api_client, callback_payload(upload))
    assert response.status_code == 200, response.content
    assert response.json() == {"id": str(upload.pk), "status": "ready", "outcome": "applied"}
    assert signals == [(upload.pk, "pending", "ready")]
    upload.refresh_from_db()
    assert upload.status == Status.READY and len(upload.variants) == 8


def test_duplicate_callback_is_200_without_second_signal(
    api_client, make_upload, signals, django_capture_on_commit_callbacks
) -> None:
    upload = make_upload()
    payload = callback_payload(upload)
    with django_capture_on_commit_callbacks(execute=True):
        post_callback(api_client, payload)
        again = post_callback(api_client, payload)
    assert again.status_code == 200
    assert again.json()["outcome"] == "duplicate"
    assert len(signals) == 1


def test_failed_after_ready_is_a_conflict(api_client, make_upload) -> None:
    upload = make_upload()
    post_callback(api_client, callback_payload(upload))
    response = post_callback(api_client, callback_payload(upload, "failed"))
    assert response.status_code == 409
    assert "cannot become failed" in response.json()["detail"]
    assert ImageUpload.objects.get(pk=upload.pk).status == Status.READY


def test_unknown_upload_is_404(api_client, make_upload) -> None:
    upload = make_upload()
    payload = callback_payload(upload)
    upload.delete()
    assert post_callback(api_client, payload).status_code == 404


# -- signature vectors ----------------------------------------------------------


def test_known_vector() -> None:
    """A fixed vector, so any other implementation (the Lambda's) can check itself."""
    headers = sign("s3cret", b'{"a":1}', timestamp=1764070000)
    assert headers["X-Image-Upload-Timestamp"] == "1764070000"
    # hex(HMAC-SHA256(b"s3cret", b'1764070000.{"a":1}')), computed independently.
    assert headers["X-Image-Upload-Signature"] == (
        "v1=00608ad159c78f8c60fc6e02d0d92b252472107b6741d6a5f3b661d915d81123"
    )


@pytest.mark.parametrize(
    ("case", "expected_reason"),
    [
        ("missing", "Missing signature headers."),
        ("wrong_secret", "Signature mismatch."),
        ("stale", "Stale signature."),
        ("future", "Timestamp is in the future."),
        ("tampered", "Signature mismatch."),
        ("bad_timestamp", "Malformed timestamp."),
        ("other_scheme", "No v1 signature."),
    ],
)
def test_bad_signatures_get_401(api_client, make_upload, case, expected_reason) -> None:
    upload = make_upload()
    body = json.dumps(callback_payload(upload)).encode()
    secret = derive_callback_secret("tests-only-secret-key-not-for-production")
    now = int(time.time())
    headers = sign(secret, body, timestamp=now)
    if case == "missing":
        headers = {}
    elif case == "wrong_secret":
        headers = sign("not-the-secret", body, timestamp=now)
    elif case == "stale":
        headers = sign(secret, body, timestamp=now - 301)
    elif case == "future":
        headers = sign(secret, body, timestamp=now + 301)
    elif case == "tampered":
        body = body.replace(b'"ready"', b'"failed"')
    elif case == "bad_timestamp":
        headers["X-Image-Upload-Timestamp"] = "12abc"
    elif case == "other_scheme":
        headers["X-Image-Upload-Signature"] = "v0=" + headers["X-Image-Upload-Signature"][3:]
    response = raw_post(api_client, body, headers)
    assert response.status_code == 401
    assert response.json()["detail"] == expected_reason
    assert "HMAC-SHA256" in response["WWW-Authenticate"]
    assert ImageUpload.objects.get(pk=upload.pk).status == Status.PENDING


def test_rotated_secret_still_verifies(api_client, make_upload, settings) -> None:
    upload = make_upload()
    body = json.dumps(callback_payload(upload)).encode()
    old_secret = derive_callback_secret(settings.SECRET_KEY)
    settings.SECRET_KEY = "a-brand-new-secret-key"
    settings.SECRET_KEY_FALLBACKS = ["tests-only-secret-key-not-for-production"]
    assert raw_post(api_client, body, sign(old_secret, body)).status_code == 200


def test_explicit_secrets_rotate(api_client, make_upload, settings) -> None:
    settings.ASYNC_IMAGE_UPLOAD = {
        **settings.ASYNC_IMAGE_UPLOAD,
        "CALLBACK_SECRETS": ["new", "old"],
    }
    first, second = make_upload(), make_upload()
    for upload, secret in ((first, "old"), (second, "new")):
        body = json.dumps(callback_payload(upload)).encode()
        assert raw_post(api_client, body, sign(secret, body)).status_code == 200
    body = json.dumps(callback_payload(make_upload())).encode()
    assert raw_post(api_client, body, sign("retired", body)).status_code == 401


def test_several_signatures_one_match_is_enough(api_client, make_upload) -> None:
    upload = make_upload()
    body = json.dumps(callback_payload(upload)).encode()
    good = signed_callback_headers(body)
    good["X-Image-Upload-Signature"] = "v1=" + "0" * 64 + "," + good["X-Image-Upload-Signature"]
    assert raw_post(api_client, body, good).status_code == 200


# -- body validation (signed, but wrong) -------------------------------------------


def signed(api_client, body: bytes):
    return raw_post(api_client, body, signed_callback_headers(body))


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (lambda p: p.update(version=2), "version"),
        (lambda p: p.update(status="processing"), "status"),
        (lambda p: p.update(upload_id="nope"), "upload_id"),
        (lambda p: p.update(variants=[]), "variants"),
        (lambda p: p["variants"][0].update(key="image/someone-else/400x400.jpg"), "variants"),
        (lambda p: p["variants"][0].update(key="../../etc/passwd"), "variants"),
        (lambda p: p["variants"][0].update(width=-1), "variants"),
        (lambda p: p["source"].update(key="temp/another"), "source"),
        (lambda p: p.update(placeholder="javascript:alert(1)"), "placeholder"),
        (lambda p: p.update(status="failed", error=None), "error"),
        (lambda p: p.update(variants=p["variants"] * 10), "variants"),
    ],
)
def test_malformed_bodies_get_400_with_message(api_client, make_upload, mutate, field) -> None:
    upload = make_upload()
    payload = callback_payload(upload)
    mutate(payload)
    response = signed(api_client, json.dumps(payload).encode())
    assert response.status_code == 400, response.content
    assert field in response.json()
    assert ImageUpload.objects.get(pk=upload.pk).status == Status.PENDING


@pytest.mark.parametrize("body", [b"{oops", b"[]", b"\xff\xfe", b"[" * 100_000 + b"]" * 100_000])
def test_junk_json_gets_400(api_client, body) -> None:
    response = signed(api_client, body)
    assert response.status_code == 400
    message = response.json()
    assert message.get("detail") or message.get("non_field_errors")


def test_oversized_body_is_refused_before_parsing(api_client, make_upload) -> None:
    body = b'{"pad": "' + b"x" * (300 * 1024) + b'"}'
    response = signed(api_client, body)
    assert response.status_code == 413


def test_no_session_or_csrf_needed(make_upload) -> None:
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    upload = make_upload()
    assert post_callback(client, callback_payload(upload)).status_code == 200


# -- the race --------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_two_identical_callbacks_racing_make_one_transition(make_upload, signals) -> None:
    """Two threads, two connections, the same callback at once: one change, one signal."""
    if connection.vendor == "sqlite":
        pytest.skip(
            "An in-memory SQLite database is not shared between threads; runs on PostgreSQL."
        )
    from django.db import connections
    from django.test import Client

    upload = make_upload()
    payload = callback_payload(upload)
    barrier = threading.Barrier(2)
    results: list[int] = []

    def send() -> None:
        try:
            barrier.wait()
            results.append(post_callback(Client(), payload).json()["outcome"])
        finally:
            connections.close_all()

    threads = [threading.Thread(target=send) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(results) == ["applied", "duplicate"]
    assert signals == [(upload.pk, "pending", "ready")]
