"""AsyncImageField: value object, forms/admin, ModelSerializer mapping, migrations."""

from __future__ import annotations

import io
import uuid

import pytest
from django.core.management import call_command

from async_image_upload import AsyncImage, AsyncImageField, AsyncImageSerializerField, Status
from async_image_upload.testing import callback_payload, post_callback
from tests.testapp.models import Photo
from tests.testapp.serializers import AvatarSerializer, PhotoSerializer

pytestmark = pytest.mark.django_db


@pytest.fixture
def ready_upload(make_upload, api_client):
    upload = make_upload()
    assert post_callback(api_client, callback_payload(upload)).status_code == 200
    upload.refresh_from_db()
    return upload


class FakeRequest:
    def __init__(self, user):
        self.user = user


def test_value_object_of_a_ready_upload(ready_upload, django_assert_num_queries) -> None:
    photo = Photo.objects.create(image=ready_upload)
    photo = Photo.objects.get(pk=photo.pk)
    with django_assert_num_queries(0):
        assert isinstance(photo.image, AsyncImage)
        assert photo.image.id == ready_upload.pk
    with django_assert_num_queries(1):
        assert photo.image.status == Status.READY
        assert photo.image.is_ready
        assert photo.image.placeholder.startswith("data:image/")
        assert f"/image/{ready_upload.pk}/400x400.jpg" in photo.image.url("400x400")
        assert f"/image/{ready_upload.pk}/50x50_blur.jpg" in photo.image.blur_url("50x50")
        assert photo.image.url("9999x9999") is None
        assert len(photo.image.variants) == 8
        srcset = photo.image.srcset()
    widths = [entry.rsplit(" ", 1)[1] for entry in srcset.split(", ")]
    assert widths == ["50w", "100w", "400w", "4000w"]


def test_pending_upload_has_no_urls_yet(make_upload) -> None:
    photo = Photo.objects.create(image=make_upload())
    assert photo.image.status == "pending"
    assert not photo.image.is_ready
    assert photo.image.url() is None and photo.image.srcset() == ""


def test_null_and_assignment_forms(make_upload) -> None:
    photo = Photo.objects.create()
    assert Photo.objects.get(pk=photo.pk).image is None
    upload = make_upload()
    for value in (upload, upload.pk, str(upload.pk), upload.as_image()):
        photo.image = value
        photo.save()
        assert Photo.objects.get(pk=photo.pk).image.id == upload.pk
        photo.image = None
        photo.save()
    assert Photo.objects.filter(image=upload).count() == 0
    photo.image = upload
    photo.save()
    assert Photo.objects.get(image=upload) == photo
    assert Photo.objects.get(image=str(upload.pk)) == photo


def test_one_upload_attaches_to_one_row(make_upload) -> None:
    from django.db import IntegrityError, transaction

    upload = make_upload()
    Photo.objects.create(image=upload)
    with pytest.raises(IntegrityError), transaction.atomic():
        Photo.objects.create(image=upload)


def test_prefetch_uploads_loads_many_in_one_query(make_upload, django_assert_num_queries) -> None:
    from async_image_upload import prefetch_uploads

    for _ in range(5):
        Photo.objects.create(image=make_upload())
    photos = list(Photo.objects.all())
    with django_assert_num_queries(1):
        prefetch_uploads(photos, "image")
        statuses = {photo.image.status for photo in photos}
    assert statuses == {"pending"}


def test_deconstruct_keeps_migrations_quiet() -> None:
    field = AsyncImageField(null=True)
    _, path, args, kwargs = field.deconstruct()
    assert args == []
    assert path == "async_image_upload.fields.AsyncImageField"
    assert kwargs == {"null": True}
    custom = AsyncImageField(variants=["64x64"], blur=False, unique=False)
    assert custom.deconstruct()[3] == {"variants": ["64x64"], "blur": False, "unique": False}


def test_makemigrations_check_is_clean() -> None:
    out = io.StringIO()
    call_command("makemigrations", "--check", "--dry-run", stdout=out)
    assert "No changes detected" in out.getvalue()


# -- DRF ------------------------------------------------------------------------


def test_model_serializer_maps_the_field_automatically() -> None:
    field = PhotoSerializer().fields["image"]
    assert isinstance(field, AsyncImageSerializerField)
    assert field.model_field is Photo._meta.get_field("image")


def test_serializer_accepts_own_upload_and_renders_it(user, ready_upload) -> None:
    serializer = PhotoSerializer(
        data={"title": "Sunset", "image": str(ready_upload.pk)},
        context={"request": FakeRequest(user)},
    )
    assert serializer.is_valid(), serializer.errors
    photo = serializer.save()
    assert photo.image.id == ready_upload.pk
    rendered = PhotoSerializer(photo).data["image"]
    assert rendered["id"] == str(ready_upload.pk)
    assert rendered["status"] == "ready"
    assert {v["name"] for v in rendered["variants"]} == {"50x50", "100x100", "400x400", "original"}
    assert all(v["url"] for v in rendered["variants"])


def test_serializer_refuses_someone_elses_upload(other_user, ready_upload) -> None:
    serializer = PhotoSerializer(
        data={"image": str(ready_upload.pk)}, context={"request": FakeRequest(other_user)}
    )
    assert not serializer.is_valid()
    assert serializer.errors["image"] == [f"Unknown upload {ready_upload.pk}."]


def test_serializer_refuses_anonymous_and_unknown_and_junk(user, ready_upload) -> None:
    from django.contrib.auth.models import AnonymousUser

    cases = [
        (AnonymousUser(), str(ready_upload.pk), "Unknown upload"),
        (user, str(uuid.uuid4()), "Unknown upload"),
        (user, "not-a-uuid", "Must be an upload id."),
        (user, ["x"], "Must be an upload id."),
    ]
    for who, value, message in cases:
        serializer = PhotoSerializer(data={"image": value}, context={"request": FakeRequest(who)})
        assert not serializer.is_valid()
        assert message in serializer.errors["image"][0]


def test_serializer_refuses_upload_already_attached(user, ready_upload) -> None:
    Photo.objects.create(image=ready_upload)
    serializer = PhotoSerializer(
        data={"image": str(ready_upload.pk)}, context={"request": FakeRequest(user)}
    )
    assert not serializer.is_valid()
    assert "already exists" in serializer.errors["image"][0]


def test_serializer_keeps_own_upload_on_update(user, ready_upload) -> None:
    photo = Photo.objects.create(image=ready_upload, title="a")
    serializer = PhotoSerializer(
        photo,
        data={"title": "b", "image": str(ready_upload.pk)},
        context={"request": FakeRequest(user)},
    )
    assert serializer.is_valid(), serializer.errors


def test_serializer_refuses_upload_made_for_another_field(user, make_upload) -> None:
    upload = make_upload(field_id="testapp.Photo.image")
    serializer = AvatarSerializer(
        data={"image": str(upload.pk)}, context={"request": FakeRequest(user)}
    )
    assert not serializer.is_valid()
    assert "was made for another field" in serializer.errors["image"][0]


def test_serializer_refuses_failed_upload(user, make_upload, api_client) -> None:
    upload = make_upload()
    post_callback(api_client, callback_payload(upload, "failed"))
    serializer = PhotoSerializer(
        data={"image": str(upload.pk)}, context={"request": FakeRequest(user)}
    )
    assert not serializer.is_valid()
    assert "is failed" in serializer.errors["image"][0]


def test_null_renders_as_none() -> None:
    assert PhotoSerializer(Photo.objects.create()).data["image"] is None


# -- forms and admin ---------------------------------------------------------------


def test_model_form_accepts_an_upload_for_its_field(user, make_upload) -> None:
    from django import forms

    from async_image_upload.forms import AsyncImageFormMixin

    class PhotoForm(AsyncImageFormMixin, forms.ModelForm):
        class Meta:
            model = Photo
            fields = ["title", "image"]

    form_class = PhotoForm
    upload = make_upload()
    form = form_class(data={"title": "t", "image": str(upload.pk)}, user=user)
    assert form.is_valid(), form.errors
    assert form.save().image.id == upload.pk
    other = make_upload(field_id="testapp.Avatar.image")
    assert not form_class(data={"image": str(other.pk)}, user=user).is_valid()
    assert "Enter a valid upload id." in str(form_class(data={"image": "zzz"}, user=user).errors)


def test_admin_change_form_shows_preview(admin_client, ready_upload) -> None:
    photo = Photo.objects.create(image=ready_upload, title="With preview")
    response = admin_client.get(f"/admin/testapp/photo/{photo.pk}/change/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "async-image-widget__preview" in html
    assert f"/image/{ready_upload.pk}/100x100.jpg" in html
    assert str(ready_upload.pk) in html


def test_admin_upload_pages_render(admin_client, ready_upload) -> None:
    assert admin_client.get("/admin/async_image_upload/imageupload/").status_code == 200
    page = admin_client.get(f"/admin/async_image_upload/imageupload/{ready_upload.pk}/change/")
    assert page.status_code == 200
    assert "400x400" in page.content.decode()
