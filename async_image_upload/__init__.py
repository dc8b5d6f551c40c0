"""Direct-to-S3 photo uploads for Django, with thumbnails made by a bundled Lambda.

The public API is re-exported here. Names are resolved lazily so that importing
the package (for example from ``settings.py`` or a pytest plugin) does not
touch the app registry before Django is set up.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_EXPORTS = {
    "AsyncImage": "async_image_upload.values",
    "AsyncImageAdminMixin": "async_image_upload.forms",
    "AsyncImageField": "async_image_upload.fields",
    "AsyncImageFormMixin": "async_image_upload.forms",
    "AsyncImageDisplayField": "async_image_upload.api.fields",
    "AsyncImageSerializerField": "async_image_upload.api.fields",
    "ImageDisplay": "async_image_upload.display",
    "image_display": "async_image_upload.display",
    "render_img": "async_image_upload.display",
    "attached_upload_finished": "async_image_upload.signals",
    "cloudfront_cookies": "async_image_upload.s3",
    "ImageUpload": "async_image_upload.models",
    "InvalidTransition": "async_image_upload.models",
    "Status": "async_image_upload.models",
    "Variant": "async_image_upload.values",
    "prefetch_uploads": "async_image_upload.values",
    "upload_settings": "async_image_upload.conf",
    "upload_status_changed": "async_image_upload.signals",
}

__all__ = [
    "AsyncImage",
    "AsyncImageAdminMixin",
    "AsyncImageDisplayField",
    "AsyncImageField",
    "AsyncImageFormMixin",
    "AsyncImageSerializerField",
    "ImageDisplay",
    "ImageUpload",
    "InvalidTransition",
    "Status",
    "Variant",
    "__version__",
    "attached_upload_finished",
    "cloudfront_cookies",
    "image_display",
    "prefetch_uploads",
    "render_img",
    "upload_settings",
    "upload_status_changed",
]

if TYPE_CHECKING:
    from async_image_upload.api.fields import AsyncImageDisplayField, AsyncImageSerializerField
    from async_image_upload.conf import upload_settings
    from async_image_upload.display import ImageDisplay, image_display, render_img
    from async_image_upload.fields import AsyncImageField
    from async_image_upload.forms import AsyncImageAdminMixin, AsyncImageFormMixin
    from async_image_upload.models import ImageUpload, InvalidTransition, Status
    from async_image_upload.s3 import cloudfront_cookies
    from async_image_upload.signals import attached_upload_finished, upload_status_changed
    from async_image_upload.values import AsyncImage, Variant, prefetch_uploads


def __getattr__(name: str) -> Any:
    module_path = _EXPORTS.get(name)
    if module_path is None:
        raise AttributeError(f"module 'async_image_upload' has no attribute {name!r}")
    return getattr(import_module(module_path), name)
