"""forms.py and widgets.py: the form path applies the API field's attach rules (issue 12.1)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django import forms
from django.contrib.auth.models import Permission
from django.utils import timezone

from async_image_upload.forms import AsyncImageFormField, AsyncImageFormMixin
from async_image_upload.testing import callback_payload, post_callback
from async_image_upload.widgets import AsyncImageWidget
from tests.testapp.models import Avatar, Photo

pytestmark = pytest.mark.django_db


class PhotoForm(AsyncImageFormMixin, forms.ModelForm):
    class Meta:
        model = Photo
        fields = ["title", "image"]


class AvatarForm(AsyncImageFormMixin, forms.ModelForm):
    class Meta:
        model = Avatar
        fields = ["image"]


def _finish(upload: Any, api_client: Any, status: str = "ready") -> Any:
    assert post_callback(api_client, callback_payload(upload, status)).status_code == 200
    upload.refresh_from_db()
    return upload


@pytest.fixture
def ready_upload(make_upload: Any, api_client: Any) -> Any:
    return _finish(make_upload(), api_client)


def _error(form: forms.BaseForm) -> str:
    assert not form.is_valid()
    return " ".join(form.errors["image"])


def test_form_attaches_the_users_own_upload(user: Any, ready_upload: Any) -> None:
    form = PhotoForm(data={"title": "t", "image": str(ready_upload.pk)}, user=user)
    assert form.is_valid(), form.errors
    assert form.save().image.id == ready_upload.pk


def test_form_refuses_someone_elses_upload(other_user: Any, ready_upload: Any) -> None:
    form = PhotoForm(data={"image": str(ready_upload.pk)}, user=other_user)
    assert _error(form) == "No upload with this id exists."


def test_form_refuses_a_failed_upload(user: Any, make_upload: Any, api_client: Any) -> None:
    failed = _finish(make_upload(), api_client, "failed")
    form = PhotoForm(data={"image": str(failed.pk)}, user=user)
    assert _error(form) == "This upload is failed and cannot be attached."


def test_form_refuses_a_pending_upload_past_its_expiry(user: Any, make_upload: Any) -> None:
    stale = make_upload(expires_at=timezone.now() - timedelta(seconds=1))
    assert stale.status == "pending"  # reconcile has not run yet
    form = PhotoForm(data={"image": str(stale.pk)}, user=user)
    assert _error(form) == "This upload is expired and cannot be attached."


def test_form_refuses_an_upload_made_for_another_field(user: Any, ready_upload: Any) -> None:
    form = AvatarForm(data={"image": str(ready_upload.pk)}, user=user)
    assert _error(form) == "This upload was made for another field."


def test_form_without_a_user_fails_closed(ready_upload: Any) -> None:
    form = PhotoForm(data={"image": str(ready_upload.pk)})
    assert _error(form) == "This form cannot attach uploads: it was given no user."


def test_form_without_a_user_keeps_the_rows_own_upload(ready_upload: Any) -> None:
    photo = Photo.objects.create(image=ready_upload, title="a")
    form = PhotoForm(data={"title": "b", "image": str(ready_upload.pk)}, instance=photo)
    assert form.is_valid(), form.errors
    assert not form.has_changed() or form.changed_data == ["title"]


def test_an_anonymous_user_attaches_nothing(ready_upload: Any) -> None:
    from django.contrib.auth.models import AnonymousUser

    form = PhotoForm(data={"image": str(ready_upload.pk)}, user=AnonymousUser())
    assert _error(form) == "No upload with this id exists."


def test_widget_previews_only_what_the_form_would_accept(
    user: Any, other_user: Any, ready_upload: Any
) -> None:
    preview = f"/image/{ready_upload.pk}/100x100.jpg"
    owner_form = PhotoForm(data={"image": str(ready_upload.pk)}, user=user)
    assert preview in str(owner_form["image"])
    for form in (
        PhotoForm(data={"image": str(ready_upload.pk)}, user=other_user),
        PhotoForm(data={"image": str(ready_upload.pk)}),
        PhotoForm(initial={"image": str(ready_upload.pk)}, user=other_user),
    ):
        assert preview not in str(form["image"])
        assert "async-image-widget__preview" not in str(form["image"])


def test_each_form_previews_by_its_own_user(user: Any, other_user: Any, ready_upload: Any) -> None:
    """The class-level field is shared; per-form copies must not leak a user between forms."""
    first = PhotoForm(data={"image": str(ready_upload.pk)}, user=user)
    second = PhotoForm(data={"image": str(ready_upload.pk)}, user=other_user)
    assert "/100x100.jpg" in str(first["image"])
    assert "/100x100.jpg" not in str(second["image"])


def test_a_bare_widget_previews_nothing(ready_upload: Any) -> None:
    html = AsyncImageWidget().render("image", str(ready_upload.pk))
    assert str(ready_upload.pk) in html
    assert "/100x100.jpg" not in html


def test_a_plain_form_field_needs_a_user_too(user: Any, ready_upload: Any) -> None:
    field = AsyncImageFormField()
    with pytest.raises(forms.ValidationError):
        field.clean(str(ready_upload.pk))
    assert AsyncImageFormField(user=user).clean(str(ready_upload.pk)).id == ready_upload.pk


# -- the admin ----------------------------------------------------------------------


@pytest.fixture
def staff_client(client: Any, django_user_model: Any) -> Any:
    """A staff user who may add and change photos, but not open the ImageUpload admin."""
    staff = django_user_model.objects.create_user("sam", password="pw-sam", is_staff=True)
    staff.user_permissions.add(
        *Permission.objects.filter(codename__in=["add_photo", "change_photo", "view_photo"])
    )
    client.force_login(staff)
    client.staff = staff
    return client


def test_staff_user_cannot_attach_or_preview_another_users_upload(
    staff_client: Any, ready_upload: Any
) -> None:
    response = staff_client.post(
        "/admin/testapp/photo/add/", {"title": "stolen", "image": str(ready_upload.pk)}
    )
    assert response.status_code == 200  # the form again, with an error
    html = response.content.decode()
    assert "No upload with this id exists." in html
    assert f"/image/{ready_upload.pk}/" not in html
    assert not Photo.objects.filter(title="stolen").exists()


def test_admin_query_string_initial_previews_nothing(staff_client: Any, ready_upload: Any) -> None:
    response = staff_client.get(f"/admin/testapp/photo/add/?image={ready_upload.pk}")
    assert response.status_code == 200
    assert f"/image/{ready_upload.pk}/" not in response.content.decode()


def test_staff_user_attaches_an_upload_of_their_own(
    staff_client: Any, make_upload: Any, api_client: Any
) -> None:
    own = _finish(make_upload(owner=staff_client.staff), api_client)
    response = staff_client.post("/admin/testapp/photo/add/", {"title": "mine", "image": own.pk})
    assert response.status_code == 302, response.content.decode()[:2000]
    assert Photo.objects.get(title="mine").image.id == own.pk


def test_staff_user_editing_a_row_keeps_and_sees_its_upload(
    staff_client: Any, ready_upload: Any
) -> None:
    photo = Photo.objects.create(image=ready_upload, title="alice's")
    page = staff_client.get(f"/admin/testapp/photo/{photo.pk}/change/").content.decode()
    assert f"/image/{ready_upload.pk}/100x100.jpg" in page
    response = staff_client.post(
        f"/admin/testapp/photo/{photo.pk}/change/",
        {"title": "renamed", "image": str(ready_upload.pk)},
    )
    assert response.status_code == 302
    photo.refresh_from_db()
    assert (photo.title, photo.image.id) == ("renamed", ready_upload.pk)
