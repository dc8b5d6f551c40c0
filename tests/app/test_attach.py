"""attach.py: what a field accepts from an upload made for no field, or past its expiry.

Issue 12 items 5 and 9: a field's limits (types, bytes, variants, blur) held at
presign time only, so presigning with no field got round them; a pending upload
past its ``expires_at`` could be attached until reconcile ran.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from async_image_upload.attach import AttachRefused, attachable_upload
from tests.testapp.models import Avatar, Photo
from tests.testapp.serializers import AvatarSerializer, PhotoSerializer

pytestmark = pytest.mark.django_db
MIB = 1024 * 1024
AVATAR = Avatar._meta.get_field("image")
PHOTO = Photo._meta.get_field("image")


class FakeRequest:
    def __init__(self, user: Any) -> None:
        self.user = user


def _context(user: Any) -> dict[str, Any]:
    return {"request": FakeRequest(user)}


def _no_field_upload(make_upload: Any, *, ready_bytes: int | None = None, **overrides: Any) -> Any:
    """An upload presigned with no field; ``ready_bytes`` marks it ready at that size."""
    values = {
        "field_id": "",
        "content_type": "image/jpeg",
        "declared_bytes": MIB,
        "requested_variants": ["64x64", "256x256"],
        "blur_radius": 0,
        **overrides,
    }
    upload = make_upload(**values)
    if ready_bytes is not None:
        type(upload).objects.filter(pk=upload.pk).update(status="ready", source_bytes=ready_bytes)
        upload.refresh_from_db()
    return upload


def _refusal(user: Any, upload: Any, model_field: Any = AVATAR) -> AttachRefused:
    with pytest.raises(AttachRefused) as caught:
        attachable_upload(str(upload.pk), user=user, model_field=model_field)
    return caught.value


def test_the_red_team_gif_of_ten_mib_is_refused_by_the_avatar_serializer(
    user: Any, make_upload: Any
) -> None:
    """Presigned with no field: a GIF of 10 MiB the avatar field itself would refuse."""
    gif = make_upload(field_id="", content_type="image/gif", declared_bytes=10 * MIB)
    serializer = AvatarSerializer(data={"image": str(gif.pk)}, context=_context(user))
    assert not serializer.is_valid()
    assert serializer.errors["image"] == [
        f"Upload {gif.pk} does not fit this field: This field does not accept image/gif."
    ]


def test_a_no_field_upload_within_every_limit_is_accepted(user: Any, make_upload: Any) -> None:
    upload = _no_field_upload(make_upload, ready_bytes=MIB)
    assert attachable_upload(str(upload.pk), user=user, model_field=AVATAR).id == upload.pk
    serializer = AvatarSerializer(
        data={"image": str(upload.pk)}, context={"request": FakeRequest(user)}
    )
    assert serializer.is_valid(), serializer.errors


def test_a_no_field_upload_with_the_settings_fits_a_field_using_the_settings(
    user: Any, make_upload: Any
) -> None:
    upload = make_upload(field_id="")  # the settings' variants and blur, still pending
    serializer = PhotoSerializer(data={"image": str(upload.pk)}, context=_context(user))
    assert serializer.is_valid(), serializer.errors


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"content_type": "image/webp"}, "This field does not accept image/webp."),
        (
            {"ready_bytes": 3 * MIB},
            "up to 3 MiB (3,145,728 bytes); this field allows 2 MiB (2,097,152 bytes).",
        ),
        # Pending: nothing but its policy (the settings' 20 MiB) bounds its size yet.
        ({}, "up to 20 MiB (20,971,520 bytes); this field allows 2 MiB (2,097,152 bytes)."),
        (
            {"ready_bytes": MIB, "requested_variants": ["64x64", "256x256", "original"]},
            "made with variants 64x64, 256x256, original; this field makes 64x64, 256x256.",
        ),
        (
            {"ready_bytes": MIB, "requested_variants": ["64x64"]},
            "made with variants 64x64; this field makes 64x64, 256x256.",
        ),
        ({"ready_bytes": MIB, "blur_radius": 20}, "has blurred variants; this field makes none."),
    ],
)
def test_a_no_field_upload_beyond_one_limit_is_refused_with_that_limit(
    user: Any, make_upload: Any, overrides: dict[str, Any], message: str
) -> None:
    refusal = _refusal(user, _no_field_upload(make_upload, **overrides))
    assert refusal.code == "incompatible"
    assert message in refusal.params["reason"]


def test_blur_missing_where_the_field_makes_it_is_refused(user: Any, make_upload: Any) -> None:
    upload = make_upload(field_id="", blur_radius=0)
    refusal = _refusal(user, upload, PHOTO)
    assert refusal.params["reason"] == "This upload has no blurred variants; this field makes them."


def test_an_upload_for_another_field_says_so(user: Any, make_upload: Any) -> None:
    upload = make_upload(field_id="testapp.Photo.image")
    assert _refusal(user, upload).code == "wrong_field"
    serializer = AvatarSerializer(
        data={"image": str(upload.pk)}, context={"request": FakeRequest(user)}
    )
    assert not serializer.is_valid()
    assert serializer.errors["image"] == [f"Upload {upload.pk} was made for another field."]


def test_someone_elses_upload_for_another_field_is_just_unknown(
    other_user: Any, make_upload: Any
) -> None:
    """Saying "another field" about someone else's id would reveal that it exists."""
    upload = make_upload(field_id="testapp.Photo.image")
    assert _refusal(other_user, upload).code == "unknown"


def test_a_pending_upload_past_its_expiry_is_refused_before_reconcile(
    user: Any, make_upload: Any
) -> None:
    upload = make_upload(expires_at=timezone.now() - timedelta(seconds=1))
    serializer = PhotoSerializer(data={"image": str(upload.pk)}, context=_context(user))
    assert not serializer.is_valid()
    assert serializer.errors["image"] == [f"Upload {upload.pk} is expired and cannot be attached."]


def test_a_pending_upload_before_its_expiry_is_accepted(user: Any, make_upload: Any) -> None:
    upload = make_upload(expires_at=timezone.now() + timedelta(minutes=1))
    assert attachable_upload(upload.pk, user=user, model_field=PHOTO).id == upload.pk


def test_the_rows_own_upload_is_kept_by_the_serializer_whatever_its_state(
    user: Any, make_upload: Any
) -> None:
    upload = make_upload(expires_at=timezone.now() - timedelta(seconds=1))
    photo = Photo.objects.create(image=upload, title="a")
    serializer = PhotoSerializer(
        photo, data={"title": "b", "image": str(upload.pk)}, context={"request": FakeRequest(user)}
    )
    assert serializer.is_valid(), serializer.errors
