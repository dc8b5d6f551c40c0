"""The API's OpenAPI description: annotations and examples.

The annotations work with or without drf-spectacular installed; the examples
are plain dicts (a test feeds ``EXAMPLE_CALLBACK`` to the callback parser, so
the documented example stays valid).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

try:
    from drf_spectacular.types import OpenApiTypes
    from drf_spectacular.utils import (
        OpenApiExample,
        OpenApiParameter,
        OpenApiResponse,
        extend_schema,
        extend_schema_field,
    )
except ImportError:  # drf-spectacular is an optional extra
    OpenApiExample = None
    OpenApiResponse = None

    def extend_schema(*args: Any, **kwargs: Any) -> Callable[[Any], Any]:
        return lambda view: view

    def extend_schema_field(*args: Any, **kwargs: Any) -> Callable[[Any], Any]:
        return lambda field: field


def example(name: str, value: Any, **kwargs: Any) -> list[Any]:
    """A one-item examples list, or nothing when drf-spectacular is absent."""
    if OpenApiExample is None:
        return []
    return [OpenApiExample(name, value=value, **kwargs)]


#: What each error status means; the bodies are DRF's (docs/api.md).
ERROR_DESCRIPTIONS = {
    400: 'Bad input: DRF\'s {"<field>": ["…"]} (nested for nested fields) or {"detail": "…"}.',
    401: "Not authenticated; for the callback a missing, wrong, stale or future signature.",
    403: "Not permitted (or not authenticated, where the first authenticator sends no challenge).",
    404: "No such upload, or not yours.",
    409: "A forbidden status change, e.g. failed after ready.",
    413: "Callback body over CALLBACK_MAX_BODY_BYTES.",
    415: "A request body in a media type the view's parsers do not read (send JSON).",
    429: "Throttled, or MAX_PENDING_PER_USER uploads still pending.",
    503: "The server cannot sign uploads: no bucket configured or no AWS credentials.",
}


def error_responses(detail_serializer: Any, *codes: int) -> dict[int, Any]:
    """Document the error answers too, so a client (or schemathesis) meets no surprise.

    400 and 409 bodies carry more than ``detail`` (field errors, the current status),
    so they are documented as objects.
    """
    if OpenApiResponse is None:
        return {}
    return {
        code: OpenApiResponse(
            response=OpenApiTypes.OBJECT if code in (400, 409) else detail_serializer,
            description=ERROR_DESCRIPTIONS[code],
        )
        for code in codes
    }


def uuid_path_parameter(name: str) -> list[Any]:
    """The path parameter as a UUID: the view answers 404 for anything else."""
    if OpenApiResponse is None:
        return []
    return [OpenApiParameter(name, OpenApiTypes.UUID, OpenApiParameter.PATH)]


# The examples in the OpenAPI document, one per endpoint.
_EXAMPLE_ID = "4f1c0d2e-9b7a-4c55-8e2f-3a6b1d9c0e71"
#: A real 1x1 WebP: the callback refuses anything but whole base64.
_EXAMPLE_PLACEHOLDER = "data:image/webp;base64,UklGRhoAAABXRUJQVlA4TA0AAAAvAAAAEAcQERGIiP4HAA=="
_EXAMPLE_VARIANT = {
    "name": "400x400",
    "blurred": False,
    "width": 400,
    "height": 300,
    "display_width": 400,
    "display_height": 300,
    "bytes": 31012,
    "content_type": "image/jpeg",
}
EXAMPLE_PRESIGN_REQUEST = {
    "field": "photos.Photo.image",
    "filename": "IMG_0001.jpg",
    "content_type": "image/jpeg",
    "size": 2481152,
}
EXAMPLE_STATUS = {
    "id": _EXAMPLE_ID,
    "status": "ready",
    "field": "photos.Photo.image",
    "filename": "IMG_0001.jpg",
    "content_type": "image/jpeg",
    "created_at": "2026-11-25T13:30:00Z",
    "expires_at": "2026-11-26T13:30:00Z",
    "completed_at": "2026-11-25T13:30:01Z",
    "source": {"format": "JPEG", "width": 4000, "height": 3000, "bytes": 5099473},
    "variants": [
        {
            **_EXAMPLE_VARIANT,
            "url": f"https://my-photos.s3.amazonaws.com/image/{_EXAMPLE_ID}/400x400.jpg?X-Amz-Signature=…",
        }
    ],
    "placeholder": _EXAMPLE_PLACEHOLDER,
    "error": None,
}
EXAMPLE_CALLBACK = {
    "version": 1,
    "upload_id": _EXAMPLE_ID,
    "status": "ready",
    "source": {
        "key": f"temp/{_EXAMPLE_ID}",
        "etag": "9b2cf535f27731c974343645a3985328",
        "format": "JPEG",
        "width": 4000,
        "height": 3000,
        "bytes": 5099473,
    },
    "variants": [{**_EXAMPLE_VARIANT, "key": f"image/{_EXAMPLE_ID}/400x400.jpg"}],
    "placeholder": _EXAMPLE_PLACEHOLDER,
    "error": None,
}
