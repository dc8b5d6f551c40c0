"""Who may see and attach an upload: other users' ids, malformed ids, throttles.

Another user's upload id must be indistinguishable from an id that does not exist,
in the status endpoint and in the serializer field, whatever form the id is
written in; a malformed id is a 404 (never a 500); and each budget is per user.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from rest_framework.test import APIClient
from rest_framework.throttling import SimpleRateThrottle

from async_image_upload.testing import callback_payload, post_callback
from tests.testapp.serializers import PhotoSerializer

pytestmark = pytest.mark.django_db


def spellings(upload_id: uuid.UUID) -> list[str]:
    """Forms ``uuid.UUID()`` accepts for the same id."""
    return [
        str(upload_id),
        str(upload_id).upper(),
        upload_id.hex,
        f"{{{upload_id}}}",
        f"urn:uuid:{upload_id}",
    ]


@pytest.fixture
def alices_upload(make_upload: Any, api_client: Any) -> Any:
    upload = make_upload()
    assert post_callback(api_client, callback_payload(upload)).status_code == 200
    return upload


# -- the status endpoint -----------------------------------------------------------


def test_others_upload_looks_exactly_like_a_missing_one(
    mallory_client: Any, alices_upload: Any
) -> None:
    missing = mallory_client.get(f"/uploads/{uuid.uuid4()}/")
    for spelling in spellings(alices_upload.pk):
        theirs = mallory_client.get(f"/uploads/{spelling}/")
        assert (theirs.status_code, theirs.json()) == (missing.status_code, missing.json())
    assert missing.status_code == 404


def test_owner_gets_the_canonical_id_whatever_the_spelling(
    alice_client: Any, alices_upload: Any
) -> None:
    for spelling in spellings(alices_upload.pk):
        response = alice_client.get(f"/uploads/{spelling}/")
        assert response.status_code == 200
        assert response.json()["id"] == str(alices_upload.pk)


def test_anonymous_callers_never_see_owned_uploads(
    api_client: Any, alices_upload: Any, settings: Any
) -> None:
    """Even where a project allows anonymous uploads, a user's own ones stay private."""
    settings.ASYNC_IMAGE_UPLOAD = {
        **settings.ASYNC_IMAGE_UPLOAD,
        "PERMISSION_CLASSES": ["rest_framework.permissions.AllowAny"],
    }
    assert api_client.get(f"/uploads/{alices_upload.pk}/").status_code == 404


@pytest.mark.parametrize(
    "bad_id",
    [
        "x" * 10_000,
        "..",
        "%00",
        "%E2%80%AE",  # right-to-left override
        "%F0%9F%98%80",
        "00000000-0000-0000-0000-00000000000g",
        "00000000-0000-0000-0000-0000000000000",
        "-1",
        "1e400",
        "null",
        "%7B%7D",
    ],
)
def test_malformed_ids_are_404_with_a_message(alice_client: Any, bad_id: str) -> None:
    response = alice_client.get(f"/uploads/{bad_id}/")
    assert response.status_code == 404
    assert response.json() == {"detail": "No such upload."}


def test_a_traversal_id_never_reaches_the_view(alice_client: Any) -> None:
    """``%2F`` decodes to ``/`` before routing: no route matches, Django's own 404."""
    response = alice_client.get("/uploads/..%2F..%2Fadmin/")
    assert response.status_code == 404
    assert b"No such upload" not in response.content


def test_the_callback_path_is_not_an_upload_id(alice_client: Any) -> None:
    """``uploads/callback/`` is routed before ``uploads/<id>/``: a GET is 405, not a lookup."""
    assert alice_client.get("/uploads/callback/").status_code == 405


# -- the serializer field ----------------------------------------------------------


class RequestOf:
    """The one attribute of a request the field reads (``user``); no view is involved."""

    def __init__(self, user: Any) -> None:
        self.user = user


def field_error(user: Any, value: Any) -> str:
    serializer = PhotoSerializer(data={"image": value}, context={"request": RequestOf(user)})
    assert not serializer.is_valid()
    return str(serializer.errors["image"][0])


def test_others_upload_in_the_field_looks_exactly_like_a_missing_one(
    other_user: Any, alices_upload: Any
) -> None:
    for spelling in [*spellings(alices_upload.pk), {"id": str(alices_upload.pk)}]:
        message = field_error(other_user, spelling)
        assert message == f"Unknown upload {alices_upload.pk}."
    assert field_error(other_user, str(uuid.uuid4())).startswith("Unknown upload ")


# A fixed UUID, not uuid4(): xdist workers must collect identical test ids.
@pytest.mark.parametrize(
    "value",
    [
        "x" * 10_000,
        "../../",
        12345,
        1.5,
        ["3f0c6b1e-0d7a-4e35-9a41-6c2f8b1d5e90"],
        {"id": ["nested"]},
        {"pk": "x"},
    ],
    ids=repr,
)
def test_malformed_values_in_the_field_are_refused_plainly(user: Any, value: Any) -> None:
    assert field_error(user, value) == "Must be an upload id."


# -- throttles ---------------------------------------------------------------------


def test_one_users_throttle_does_not_spend_anothers(
    alice_client: Any, mallory_client: Any, make_upload: Any, other_user: Any, settings: Any
) -> None:
    settings.ASYNC_IMAGE_UPLOAD = {
        **settings.ASYNC_IMAGE_UPLOAD,
        "STATUS_THROTTLE_RATE": "2/minute",
    }
    alices, mallorys = make_upload(), make_upload(owner=other_user)
    assert [alice_client.get(f"/uploads/{alices.pk}/").status_code for _ in range(3)] == [
        200,
        200,
        429,
    ]
    assert mallory_client.get(f"/uploads/{mallorys.pk}/").status_code == 200


def test_probing_for_ids_is_throttled_like_polling(mallory_client: Any, settings: Any) -> None:
    """Guessing ids costs the status budget too: 404s count, so enumeration is bounded."""
    settings.ASYNC_IMAGE_UPLOAD = {
        **settings.ASYNC_IMAGE_UPLOAD,
        "STATUS_THROTTLE_RATE": "3/minute",
    }
    codes = [mallory_client.get(f"/uploads/{uuid.uuid4()}/").status_code for _ in range(4)]
    assert codes == [404, 404, 404, 429]


def test_anonymous_presign_is_throttled_per_address(settings: Any) -> None:
    settings.ASYNC_IMAGE_UPLOAD = {
        **settings.ASYNC_IMAGE_UPLOAD,
        "PERMISSION_CLASSES": ["rest_framework.permissions.AllowAny"],
        "THROTTLE_RATE": "1/minute",
    }
    body = {"content_type": "text/plain", "size": 1}  # refused as 400, but counted first
    first, second = APIClient(REMOTE_ADDR="192.0.2.1"), APIClient(REMOTE_ADDR="192.0.2.2")
    assert first.post("/uploads/", body, format="json").status_code == 400
    assert first.post("/uploads/", body, format="json").status_code == 429
    assert second.post("/uploads/", body, format="json").status_code == 400


class OneCallbackPerMinute(SimpleRateThrottle):
    """A project's own callback throttle (per client address), as a setting names it."""

    rate = "1/minute"

    def get_cache_key(self, request: Any, view: Any) -> str:
        return self.cache_format % {"scope": "callback", "ident": self.get_ident(request)}


def test_callback_throttle_hook_applies(api_client: Any, settings: Any) -> None:
    """CALLBACK_THROTTLE_CLASSES is empty by default (the Lambda is trusted and bursty);
    a project that sets it gets 429s before any signature work."""
    settings.ASYNC_IMAGE_UPLOAD = {
        **settings.ASYNC_IMAGE_UPLOAD,
        "CALLBACK_THROTTLE_CLASSES": [f"{__name__}.OneCallbackPerMinute"],
    }
    codes = [
        api_client.generic(
            "POST", "/uploads/callback/", b"{}", content_type="application/json"
        ).status_code
        for _ in range(2)
    ]
    assert codes == [401, 429]
