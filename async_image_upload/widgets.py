"""Admin/form widget: the upload id, a browser upload straight to S3, and a preview."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.templatetags.static import static
from django.urls import NoReverseMatch, reverse

from async_image_upload.values import AsyncImage

try:  # Django 5.2+: Media can declare <script type="module"> itself.
    from django.forms import Script as _Script
except ImportError:  # Django 4.2: the widget's template writes the tag instead.
    _Script = None

#: The module that turns the widget into an uploader.
WIDGET_MODULE = "async_image_upload/widget.js"
#: The client widget.js imports, by the URL the static storage gives it (see uploader_context).
UPLOADER_MODULE = "async_image_upload/uploader.js"
WIDGET_CSS = "async_image_upload/widget.css"


class AsyncImageWidget(forms.TextInput):
    """Upload in the form: pick a file, it goes to S3, the input gets the upload id.

    The text input stays the source of truth (an id can still be pasted), so
    the form works without JavaScript; ``widget.js`` adds the file picker,
    progress bar and live preview using the same client as any page
    (``uploader.js``). The field id the upload is made for comes from
    ``field_id`` or a ``data-field`` attribute; without one the API applies
    the app-wide settings.
    """

    template_name = "async_image_upload/widgets/async_image.html"
    preview_variant = "100x100"

    class Media:
        css = {"all": [WIDGET_CSS]}
        js = [_Script(WIDGET_MODULE, type="module")] if _Script is not None else []

    def __init__(self, attrs: dict[str, Any] | None = None, *, field_id: str = "") -> None:
        super().__init__(attrs)
        self.field_id = field_id

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
        widget = context["widget"]
        widget["preview"] = preview
        widget["uploader"] = self.uploader_context(widget["attrs"])
        return context

    def uploader_context(self, attrs: dict[str, Any]) -> dict[str, Any] | None:
        """What widget.js needs, or None where the API is not mounted (no upload button)."""
        try:
            endpoint = reverse("async_image_upload:upload-create")
        except NoReverseMatch:
            return None
        return {
            "endpoint": endpoint,
            "field": attrs.pop("data-field", None) or self.field_id,
            "variant": self.preview_variant,
            # widget.js imports the client from here, not "./uploader.js": the static
            # storage's URL is the hashed one under ManifestStaticFilesStorage.
            "uploader_url": static(UPLOADER_MODULE),
            # Django 4.2 has no Script media objects; the template then loads the
            # module itself (browsers run a module URL once, however often it appears).
            "module_url": static(WIDGET_MODULE) if _Script is None else None,
            "disabled": bool(attrs.get("disabled")),
        }
