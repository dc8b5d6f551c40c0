"""Admin/form widget: the upload id plus a preview of the current image."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from async_image_upload.values import AsyncImage


class AsyncImageWidget(forms.TextInput):
    """Shows the current upload's status and thumbnail next to its id."""

    template_name = "async_image_upload/widgets/async_image.html"
    preview_variant = "100x100"

    def format_value(self, value: Any) -> str | None:
        if isinstance(value, AsyncImage):
            return str(value.id)
        return super().format_value(value)

    def get_context(self, name: str, value: Any, attrs: dict[str, Any] | None) -> dict[str, Any]:
        context = super().get_context(name, value, attrs)
        image = value if isinstance(value, AsyncImage) else None
        if image is None and value:
            from async_image_upload.fields import _to_uuid

            try:
                upload_id = _to_uuid(value)
            except ValidationError:  # a bad id: no preview; the form field says why
                upload_id = None
            image = AsyncImage(upload_id) if upload_id else None
        preview: dict[str, Any] | None = None
        if image is not None and image.upload is not None:
            preview = {
                "status": image.status,
                "url": image.url(self.preview_variant) or image.url(),
                "placeholder": image.placeholder,
                "width": image.width,
                "height": image.height,
                "error": image.upload.error_message,
            }
        context["widget"]["preview"] = preview
        return context
