"""Callback signatures (async_image_upload/signing.py) as the callback endpoint applies them.

A fixed vector, every way a signature can be wrong (401, nothing changes),
and secret rotation: ``SECRET_KEY_FALLBACKS`` and ``CALLBACK_SECRETS``. Hostile
signatures and replays are in tests/security/test_callback_signing.py; that
the Lambda's half agrees is in tests/test_contract.py.
"""

from __future__ import annotations

import json
import time

import pytest

from async_image_upload import ImageUpload, Status
from async_image_upload.conf import derive_callback_secret
from async_image_upload.signing import sign
from async_image_upload.testing import callback_payload, signed_callback_headers

pytestmark = pytest.mark.django_db
URL = "/uploads/callback/"


def raw_post(client, body: bytes, headers: dict[str, str]):
    return client.generic("POST", URL, body, content_type="application/json", headers=headers)


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
