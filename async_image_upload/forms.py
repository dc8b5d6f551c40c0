"""Form support for ``AsyncImageField``: the form field, a ModelForm mixin, an admin mixin.

A form field attaches only what the user editing the form may attach (the rules
in ``attach.py``, shared with the API's serializer field), so it has to know
that user. The admin passes it with :class:`AsyncImageAdminMixin`; a ModelForm
with :class:`AsyncImageFormMixin` takes ``user=``. A form given no user fails
closed: it keeps the upload the row already holds and refuses any other.
"""

from __future__ import annotations

import uuid
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from async_image_upload.attach import AttachRefused, attachable_upload, attached_id
from async_image_upload.ids import InvalidUploadId, parse_upload_id
from async_image_upload.values import AsyncImage
from async_image_upload.widgets import AsyncImageWidget


class AsyncImageFormField(forms.Field):
    """Takes an upload id; accepts only an upload ``user`` may attach to this model field.

    ``user`` is set by :class:`AsyncImageFormMixin` or :class:`AsyncImageAdminMixin`
    (or passed to the constructor). Without one, only the value the row already
    holds is accepted.
    """

    widget = AsyncImageWidget
    default_error_messages = {
        "invalid": _("Enter a valid upload id."),
        "no_user": _("This form cannot attach uploads: it was given no user."),
        "unknown": _("No upload with this id exists."),
        "wrong_field": _("This upload was made for another field."),
        "unusable": _("This upload is %(status)s and cannot be attached."),
        "incompatible": _("This upload does not fit this field: %(reason)s"),
    }

    def __init__(self, *, model_field: Any = None, user: Any = None, **kwargs: Any) -> None:
        self.model_field = model_field
        self.user = user
        #: The upload the edited row holds; set per form in get_bound_field.
        self.attached: uuid.UUID | None = None
        kwargs.pop("max_length", None)
        super().__init__(**kwargs)
        self.widget.preview_rule = self.previewable

    def __deepcopy__(self, memo: dict[int, Any]) -> Any:
        result = super().__deepcopy__(memo)
        # Each form's copy previews by its own user and row, never by the class's field.
        result.widget.preview_rule = result.previewable
        return result

    def get_bound_field(self, form: Any, field_name: str) -> Any:
        # The row's current value comes from the instance, never from ``initial``:
        # the admin fills ``initial`` from the query string.
        self.attached = attached_id(self.model_field, getattr(form, "instance", None))
        return super().get_bound_field(form, field_name)

    def widget_attrs(self, widget: Any) -> dict[str, Any]:
        # The uploader in the widget asks for an upload for this very field, so
        # the field's own variants, size cap and types apply.
        attrs = super().widget_attrs(widget)
        if self.model_field is not None:
            attrs["data-field"] = self.model_field.field_id
        return attrs

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, AsyncImage):
            return str(value.id)
        return value

    def to_python(self, value: Any) -> AsyncImage | None:
        try:
            return attachable_upload(
                value, user=self.user, model_field=self.model_field, attached=self.attached
            )
        except AttachRefused as refusal:
            raise forms.ValidationError(
                self.error_messages[refusal.code], code=refusal.code, params=refusal.params
            ) from None

    def previewable(self, value: Any) -> AsyncImage | None:
        """The upload the widget may show for ``value``: one this form would accept."""
        try:
            return self.to_python(value)
        except forms.ValidationError:
            return None

    def has_changed(self, initial: Any, data: Any) -> bool:
        try:
            return parse_upload_id(self.prepare_value(initial)) != parse_upload_id(data)
        except InvalidUploadId:
            return True


class AsyncImageFormMixin:
    """For a ModelForm with AsyncImageFields: ``PhotoForm(request.POST, user=request.user)``.

    The user is the one whose own uploads may be attached. Without ``user=``
    the form fails closed (see the module's docstring).
    """

    def __init__(self, *args: Any, user: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if user is not None:
            for field in self.fields.values():  # type: ignore[attr-defined]
                if isinstance(field, AsyncImageFormField):
                    field.user = user


class AsyncImageAdminMixin:
    """For a ModelAdmin (or inline) with AsyncImageFields: passes ``request.user`` to them.

    ``class PhotoAdmin(AsyncImageAdminMixin, admin.ModelAdmin)``. Without it the
    admin fails closed: a row keeps its upload, and no new one can be attached.
    """

    def formfield_for_dbfield(self, db_field: Any, request: Any, **kwargs: Any) -> Any:
        formfield = super().formfield_for_dbfield(db_field, request, **kwargs)  # type: ignore[misc]
        if isinstance(formfield, AsyncImageFormField) and request is not None:
            formfield.user = request.user
        return formfield
