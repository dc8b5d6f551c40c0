"""Form support for ``AsyncImageField`` (admin and ModelForms)."""

from __future__ import annotations

import uuid
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from async_image_upload.values import AsyncImage
from async_image_upload.widgets import AsyncImageWidget


class AsyncImageFormField(forms.Field):
    """Takes an upload id; accepts only an upload made for this model field."""

    widget = AsyncImageWidget
    default_error_messages = {
        "invalid": _("Enter a valid upload id."),
        "unknown": _("No upload with this id exists."),
        "wrong_field": _("This upload was made for another field."),
    }

    def __init__(self, *, model_field: Any = None, **kwargs: Any) -> None:
        self.model_field = model_field
        kwargs.pop("max_length", None)
        super().__init__(**kwargs)

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
        from async_image_upload.models import ImageUpload

        if value in self.empty_values:
            return None
        if isinstance(value, AsyncImage):
            return value
        try:
            upload_id = uuid.UUID(str(value).strip())
        except ValueError as exc:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid") from exc
        upload = ImageUpload.objects.filter(pk=upload_id).first()
        if upload is None:
            raise forms.ValidationError(self.error_messages["unknown"], code="unknown")
        if self.model_field is not None and upload.field_id not in ("", self.model_field.field_id):
            raise forms.ValidationError(self.error_messages["wrong_field"], code="wrong_field")
        return AsyncImage(upload.pk, upload=upload)

    def has_changed(self, initial: Any, data: Any) -> bool:
        return str(self.prepare_value(initial) or "") != str(data or "")
