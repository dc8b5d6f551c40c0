from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import pytest

from async_image_upload import Status
from async_image_upload.testing import callback_payload, post_callback

pytestmark = pytest.mark.django_db


def test_owner_sees_pending_status(alice_client, make_upload) -> None:
    upload = make_upload()
    data = alice_client.get(f"/uploads/{upload.pk}/").json()
    assert data["status"] == "pending"
    assert data["variants"] == []
    assert data["error"] is None
    assert data["field"] == "testapp.Photo.image"


def test_ready_upload_lists_variants_with_presigned_urls(alice_client, api_client, make_upload):
    upload = make_upload()
    assert post_callback(api_client, callback_payload(upload)).status_code == 200
    data = alice_client.get(f"/uploads/{upload.pk}/").json()
    assert data["status"] == "ready"
    assert data["source"] == {"format": "JPEG", "width": 4000, "height": 3000, "bytes": 123_456}
    assert data["placeholder"].startswith("data:image/webp;base64,")
    assert len(data["variants"]) == 8
    thumb = next(v for v in data["variants"] if v["name"] == "400x400" and not v["blurred"])
    assert (thumb["width"], thumb["height"]) == (400, 300)
    url = urlparse(thumb["url"])
    assert url.path.endswith(f"/image/{upload.pk}/400x400.jpg")
    assert "X-Amz-Signature" in parse_qs(url.query)


def test_failed_upload_shows_its_error(alice_client, api_client, make_upload) -> None:
    upload = make_upload()
    payload = callback_payload(
        upload,
        "failed",
        error_code="unsupported_format",
        error_message="This file is not an image we can read.",
    )
    post_callback(api_client, payload)
    data = alice_client.get(f"/uploads/{upload.pk}/").json()
    assert data["status"] == Status.FAILED
    assert data["error"] == {
        "code": "unsupported_format",
        "message": "This file is not an image we can read.",
    }


def test_other_users_get_404(make_upload, other_user) -> None:
    from rest_framework.test import APIClient

    upload = make_upload()
    client = APIClient()
    client.force_authenticate(other_user)
    response = client.get(f"/uploads/{upload.pk}/")
    assert response.status_code == 404
    assert response.json() == {"detail": "No such upload."}


def test_anonymous_is_refused(api_client, make_upload) -> None:
    assert api_client.get(f"/uploads/{make_upload().pk}/").status_code in (401, 403)


# A fixed never-issued UUID, not uuid4(): xdist workers must collect identical test ids.
@pytest.mark.parametrize(
    "bad_id", ["not-a-uuid", "1", "%27%20OR%201=1", "3f0c6b1e-0d7a-4e35-9a41-6c2f8b1d5e90"]
)
def test_unknown_or_malformed_ids_get_404(alice_client, bad_id) -> None:
    response = alice_client.get(f"/uploads/{bad_id}/")
    assert response.status_code == 404
    assert response.json()["detail"]


def test_url_modes(alice_client, api_client, make_upload, settings) -> None:
    upload = make_upload()
    post_callback(api_client, callback_payload(upload))
    settings.ASYNC_IMAGE_UPLOAD = {
        **settings.ASYNC_IMAGE_UPLOAD,
        "URL_MODE": "custom_domain",
        "CUSTOM_DOMAIN": "img.example.com",
    }
    variants = alice_client.get(f"/uploads/{upload.pk}/").json()["variants"]
    assert variants[0]["url"].startswith(f"https://img.example.com/image/{upload.pk}/")

    settings.STORAGES = {
        **settings.STORAGES,
        "images": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                "bucket_name": "test-bucket",
                "custom_domain": "cdn.example.com",
                "querystring_auth": False,
            },
        },
    }
    settings.ASYNC_IMAGE_UPLOAD = {
        **settings.ASYNC_IMAGE_UPLOAD,
        "URL_MODE": "storage",
        "STORAGE": "images",
    }
    variants = alice_client.get(f"/uploads/{upload.pk}/").json()["variants"]
    assert variants[0]["url"].startswith(f"https://cdn.example.com/image/{upload.pk}/")


def test_polling_has_its_own_throttle_budget(alice_client, make_upload, settings) -> None:
    settings.ASYNC_IMAGE_UPLOAD = {
        **settings.ASYNC_IMAGE_UPLOAD,
        "STATUS_THROTTLE_RATE": "3/minute",
        "THROTTLE_RATE": "1/minute",
    }
    upload = make_upload()
    codes = [alice_client.get(f"/uploads/{upload.pk}/").status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
