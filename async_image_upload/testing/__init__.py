"""Helpers for testing projects that use async_image_upload.

``callback_payload`` builds a contract-shaped callback for an upload and
``signed_callback_headers`` signs it as the Lambda would, so a project's tests
can drive an upload to ``ready`` or ``failed`` without S3 or a Lambda.
``s3_event`` and ``s3_record`` build the S3 notifications the Lambda receives;
they need no Django, so the Lambda's own tests use them too. The pytest plugin
(registered automatically) adds fixtures: see
:mod:`async_image_upload.testing.pytest_plugin`.

Names are resolved lazily, so importing ``events`` does not import Django.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

_EXPORTS = {
    "callback_payload": "async_image_upload.testing.payloads",
    "post_callback": "async_image_upload.testing.payloads",
    "s3_event": "async_image_upload.testing.events",
    "s3_record": "async_image_upload.testing.events",
    "signed_callback_headers": "async_image_upload.testing.payloads",
}

__all__ = [
    "callback_payload",
    "post_callback",
    "s3_event",
    "s3_record",
    "signed_callback_headers",
]

if TYPE_CHECKING:
    from async_image_upload.testing.events import s3_event, s3_record
    from async_image_upload.testing.payloads import (
        callback_payload,
        post_callback,
        signed_callback_headers,
    )


def __getattr__(name: str) -> Any:
    module_path = _EXPORTS.get(name)
    if module_path is None:
        raise AttributeError(f"module 'async_image_upload.testing' has no attribute {name!r}")
    return getattr(import_module(module_path), name)
