"""Admin/form widget: the upload id, a browser upload straight to S3, and a preview."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.templatetags.static import static
from django.urls import NoReverseMatch, reverse

from async_image_upload.display import render_img
from async_image_upload.ids import InvalidUploadId, parse_upload_id
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
#: Clears the preview's inline placeholder once the thumbnail has loaded.
PLACEHOLDER_SCRIPT = "async_image_upload/async_img.js"
#: The preview box is at most 100 CSS pixels wide (widget.css).
PREVIEW_SIZES = "100px"


class AsyncImageWidget(forms.TextInput):
    """Upload in the form: pick a file, it goes to S3, the input gets the upload id.

    The text input stays the source of truth (an id can still be pasted), so
    the form works without JavaScript; ``widget.js`` adds the file picker,
    progress bar and live preview using the same client as any page
    (``uploader.js``). The field id the upload is made for comes from
    ``field_id`` or a ``data-field`` attribute; without one the API applies
    the app-wide settings.

    The preview shows only what ``preview_rule`` returns for the value: the
    form field sets it to its own rules (the user's own, attachable upload, or
    the one the row holds). A widget without a rule previews nothing, so a
    pasted or posted id never reveals someone else's image.
    """

    template_name = "async_image_upload/widgets/async_image.html"
    preview_variant = "100x100"

    class Media:
        css = {"all": [WIDGET_CSS]}
        js = [
            *([_Script(WIDGET_MODULE, type="module")] if _Script is not None else []),
            PLACEHOLDER_SCRIPT,
        ]

    def __init__(self, attrs: dict[str, Any] | None = None, *, field_id: str = "") -> None:
        super().__init__(attrs)
        self.field_id = field_id
        self.preview_rule: Callable[[Any], AsyncImage | None] | None = None

    def format_value(self, value: Any) -> str | None:
        if isinstance(value, AsyncImage):
            return str(value.id)
        return super().format_value(value)

    def get_context(self, name: str, value: Any, attrs: dict[str, Any] | None) -> dict[str, Any]:
        context = super().get_context(name, value, attrs)
        image = self.preview_image(value)
        preview: dict[str, Any] | None = None
        if image is not None and image.upload is not None:
            preview = {
                "status": image.status,
                # The same <img> as {% async_img %}: srcset, size and placeholder included.
                "img": render_img(
                    image,
                    variant=self.preview_variant,
                    sizes=PREVIEW_SIZES,
                    loading=None,
                    attrs={"class": "async-image-widget__image"},
                ),
                "width": image.width,
                "height": image.height,
                "error": image.upload.error_message,
            }
        widget = context["widget"]
        widget["preview"] = preview
        widget["uploader"] = self.uploader_context(widget["attrs"])
        return context

    def preview_image(self, value: Any) -> AsyncImage | None:
        """The upload to preview for ``value``, if ``preview_rule`` allows it."""
        try:
            upload_id = parse_upload_id(value)
        except InvalidUploadId:  # a bad id: no preview; the form field says why
            return None
        if upload_id is None or self.preview_rule is None:
            return None
        return self.preview_rule(upload_id)

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
