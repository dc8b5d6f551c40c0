"""Callback payloads shaped exactly like the Lambda's (docs/contract.md)."""

from __future__ import annotations

import json
from typing import Any

from async_image_upload import signing
from async_image_upload.conf import upload_settings
from async_image_upload.variants import parse_variants

_EXT = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp"}


def callback_payload(
    upload: Any,
    status: str = "ready",
    *,
    width: int = 4000,
    height: int = 3000,
    content_type: str = "image/jpeg",
    error_code: str = "corrupt",
    error_message: str = "The image data is damaged.",
) -> dict[str, Any]:
    """A version-1 callback body for ``upload`` with plausible variant facts."""
    upload_id = str(upload.pk)
    source = {
        "key": f"{upload_settings.TEMP_PREFIX}{upload_id}",
        "etag": '"0123456789abcdef0123456789abcdef"',
        "format": "JPEG",
        "width": width,
        "height": height,
        "bytes": upload.declared_bytes,
    }
    if status != "ready":
        source.update(format=None, width=None, height=None)
        return {
            "version": 1,
            "upload_id": upload_id,
            "status": status,
            "source": source,
            "variants": [],
            "placeholder": None,
            "error": {"code": error_code, "message": error_message},
        }
    ext = _EXT.get(content_type, "jpg")
    variants = []
    names = upload.requested_variants or list(upload_settings.VARIANTS)
    for spec in parse_variants(names):
        if spec.box is None:
            w, h = width, height
        else:
            scale = min(1.0, spec.box[0] / width, spec.box[1] / height)
            w, h = max(1, round(width * scale)), max(1, round(height * scale))
        for blurred in (False, True) if upload.blur_radius else (False,):
            suffix = "_blur" if blurred else ""
            variants.append(
                {
                    "name": spec.name,
                    "key": f"{upload_settings.IMAGE_PREFIX}{upload_id}/{spec.name}{suffix}.{ext}",
                    "blurred": blurred,
                    "width": w,
                    "height": h,
                    "display_width": w,
                    "display_height": h,
                    "bytes": max(100, w * h // 10),
                    "content_type": content_type,
                }
            )
    return {
        "version": 1,
        "upload_id": upload_id,
        "status": "ready",
        "source": source,
        "variants": variants,
        "placeholder": "data:image/webp;base64,UklGRhoAAABXRUJQVlA4TA0AAAAvAAAAEAcQERGIiP4HAA==",
        "error": None,
    }


def signed_callback_headers(
    body: bytes, *, secret: str | None = None, timestamp: int | None = None
) -> dict[str, str]:
    """Headers the Lambda would send, signed with the first configured secret."""
    key = secret if secret is not None else upload_settings.callback_secrets[0]
    return signing.sign(key, body, timestamp=timestamp)


def post_callback(
    client: Any, payload: dict[str, Any], *, path: str | None = None, **kwargs: Any
) -> Any:
    """POST a signed callback with a Django or DRF test client; returns the response."""
    from django.urls import reverse

    body = json.dumps(payload).encode()
    headers = signed_callback_headers(body, **kwargs)
    return client.generic(
        "POST",
        path or reverse("async_image_upload:callback"),
        body,
        content_type="application/json",
        headers=headers,
    )
