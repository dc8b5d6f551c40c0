"""Helpers for testing projects that use async_image_upload.

``callback_payload`` builds a contract-shaped callback for an upload and
``signed_callback_headers`` signs it as the Lambda would, so a project's tests
can drive an upload to ``ready`` or ``failed`` without S3 or a Lambda. The
pytest plugin (registered automatically) adds fixtures around them.
"""

from async_image_upload.testing.events import s3_event
from async_image_upload.testing.payloads import (
    callback_payload,
    post_callback,
    signed_callback_headers,
)

__all__ = ["callback_payload", "post_callback", "s3_event", "signed_callback_headers"]
