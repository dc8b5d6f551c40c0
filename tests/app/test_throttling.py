"""Anonymous uploads, where a project allows them: a per-client open-upload cap and W003 (12.6)."""

from __future__ import annotations

from typing import Any

import pytest
from django.core import checks
from rest_framework.test import APIClient

from async_image_upload.testing import callback_payload, post_callback

pytestmark = pytest.mark.django_db
BODY = {"filename": "a.jpg", "content_type": "image/jpeg", "size": 1000}
ALLOW_ANY = ["rest_framework.permissions.AllowAny"]


@pytest.fixture
def anonymous_uploads(settings: Any) -> Any:
    settings.ASYNC_IMAGE_UPLOAD = {
        **settings.ASYNC_IMAGE_UPLOAD,
        "PERMISSION_CLASSES": ALLOW_ANY,
        "THROTTLE_RATE": "1000/minute",
        "MAX_PENDING_PER_ANONYMOUS_CLIENT": 2,
    }
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 0}
    return settings


def _codes(client: APIClient, count: int) -> list[int]:
    return [client.post("/uploads/", BODY, format="json").status_code for _ in range(count)]


def test_an_anonymous_client_has_an_open_upload_cap(anonymous_uploads: Any) -> None:
    assert _codes(APIClient(REMOTE_ADDR="192.0.2.1"), 3) == [201, 201, 429]
    assert _codes(APIClient(REMOTE_ADDR="192.0.2.2"), 1) == [201]  # another client's own cap


def test_a_finished_anonymous_upload_frees_its_slot(anonymous_uploads: Any) -> None:
    from async_image_upload import ImageUpload

    client = APIClient(REMOTE_ADDR="192.0.2.1")
    assert _codes(client, 3) == [201, 201, 429]
    first = ImageUpload.objects.filter(owner__isnull=True).order_by("created_at").first()
    assert post_callback(APIClient(), callback_payload(first)).status_code == 200
    assert _codes(client, 2) == [201, 429]


def test_a_spoofed_forwarded_for_does_not_reset_the_cap_with_num_proxies_set(
    anonymous_uploads: Any,
) -> None:
    client = APIClient(REMOTE_ADDR="192.0.2.1")
    codes = [
        client.post(
            "/uploads/", BODY, format="json", HTTP_X_FORWARDED_FOR=f"198.51.100.{n}"
        ).status_code
        for n in range(4)
    ]
    assert codes == [201, 201, 429, 429]


def test_authenticated_users_keep_their_own_cap(anonymous_uploads: Any, alice_client: Any) -> None:
    assert _codes(alice_client, 4) == [201] * 4


def _w003() -> list[checks.CheckMessage]:
    from async_image_upload.checks import check_settings

    return [m for m in check_settings() if m.id == "async_image_upload.W003"]


def test_w003_warns_when_anonymous_uploads_trust_forwarded_for(settings: Any) -> None:
    settings.ASYNC_IMAGE_UPLOAD = {**settings.ASYNC_IMAGE_UPLOAD, "PERMISSION_CLASSES": ALLOW_ANY}
    assert len(_w003()) == 1
    assert "NUM_PROXIES" in _w003()[0].msg


@pytest.mark.parametrize(
    ("permissions", "num_proxies"),
    [
        (["rest_framework.permissions.IsAuthenticated"], None),
        (ALLOW_ANY, 0),
        (ALLOW_ANY, 1),
        (["rest_framework.permissions.IsAuthenticatedOrReadOnly"], None),  # the presign is a POST
    ],
)
def test_w003_is_quiet_otherwise(settings: Any, permissions: list[str], num_proxies: Any) -> None:
    settings.ASYNC_IMAGE_UPLOAD = {**settings.ASYNC_IMAGE_UPLOAD, "PERMISSION_CLASSES": permissions}
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": num_proxies}
    assert _w003() == []
