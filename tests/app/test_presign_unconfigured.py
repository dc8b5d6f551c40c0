"""Presign on a server with no bucket or no AWS credentials: a 503 that says what to set.

Signing is local (no request to S3), so an unreachable S3 does not fail the
presign; the client's POST to S3 does. What fails here is configuration, and
it used to be a 500 from botocore's NoCredentialsError.
"""

from __future__ import annotations

import pytest

from async_image_upload import ImageUpload, s3
from async_image_upload.testing.pytest_plugin import FAKE_AWS_ENV

pytestmark = pytest.mark.django_db

BODY = {"filename": "a.jpg", "content_type": "image/jpeg", "size": 1000}


def test_no_bucket_is_503_naming_the_setting(alice_client, settings) -> None:
    settings.ASYNC_IMAGE_UPLOAD = {**settings.ASYNC_IMAGE_UPLOAD, "BUCKET": None}
    response = alice_client.post("/uploads/", BODY, format="json")
    assert response.status_code == 503
    assert "ASYNC_IMAGE_UPLOAD['BUCKET']" in response.json()["detail"]
    assert not ImageUpload.objects.exists()


def test_no_credentials_is_503_saying_so(alice_client, monkeypatch) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    s3.reset_clients()
    try:
        response = alice_client.post("/uploads/", BODY, format="json")
    finally:
        for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
            monkeypatch.setenv(name, FAKE_AWS_ENV[name])
        s3.reset_clients()
    assert response.status_code == 503
    assert response.json()["detail"].startswith("No AWS credentials to sign uploads with")
    assert not ImageUpload.objects.exists()
