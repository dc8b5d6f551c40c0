"""The callback body (docs/contract.md, "Callback") and the manifest that stores it.

Built here and nowhere else, so the shape Django parses has one author. The
manifest keeps the exact body sent, so a duplicate event resends it unchanged.
"""

from __future__ import annotations

import json
from typing import Any

from .errors import ImageError
from .pipeline import Output, Result
from .storage import SourceObject

PAYLOAD_VERSION = 1
# Django accepts up to 2000 characters; a reason longer than this is noise anyway.
MAX_ERROR_MESSAGE = 500

Payload = dict[str, Any]


def variant(output: Output, key: str) -> dict[str, Any]:
    """One stored output as the callback lists it."""
    return {
        "name": output.name,
        "key": key,
        "blurred": output.blurred,
        "width": output.width,
        "height": output.height,
        "display_width": output.display_width,
        "display_height": output.display_height,
        "bytes": len(output.data),
        "content_type": output.content_type,
    }


def ready(
    upload_id: str, source: SourceObject, result: Result, variants: list[dict[str, Any]]
) -> Payload:
    return {
        "version": PAYLOAD_VERSION,
        "upload_id": upload_id,
        "status": "ready",
        "source": {
            "key": source.key,
            "etag": source.etag,
            "format": result.format,
            "width": result.width,
            "height": result.height,
            "bytes": source.size,
        },
        "variants": variants,
        "placeholder": result.placeholder,
        "error": None,
    }


def failed(
    upload_id: str, key: str, etag: str | None, size: int | None, error: ImageError
) -> Payload:
    return {
        "version": PAYLOAD_VERSION,
        "upload_id": upload_id,
        "status": "failed",
        "source": {
            "key": key,
            "etag": etag,
            "format": None,
            "width": None,
            "height": None,
            "bytes": size,
        },
        "variants": [],
        "placeholder": None,
        "error": {"code": error.code.value, "message": _message(error.message)},
    }


def manifest(payload: Payload, source_etag: str) -> dict[str, Any]:
    """What is stored last in the upload's folder: the result is final from then on."""
    return {"version": PAYLOAD_VERSION, "source_etag": source_etag, "callback": payload}


def encode(payload: Payload) -> bytes:
    """The exact bytes sent (and signed): compact JSON."""
    return json.dumps(payload, separators=(",", ":")).encode()


def _message(text: str) -> str:
    """``text`` cut to ``MAX_ERROR_MESSAGE`` characters (Django refuses over 2000)."""
    if len(text) <= MAX_ERROR_MESSAGE:
        return text
    return text[: MAX_ERROR_MESSAGE - 1] + "\N{HORIZONTAL ELLIPSIS}"
