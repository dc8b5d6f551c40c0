"""OpenAPI annotations that work with or without drf-spectacular installed."""

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
    )
except ImportError:  # drf-spectacular is an optional extra
    OpenApiExample = None
    OpenApiResponse = None

    def extend_schema(*args: Any, **kwargs: Any) -> Callable[[Any], Any]:
        return lambda view: view


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
    429: "Throttled, or MAX_PENDING_PER_USER uploads still pending.",
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
