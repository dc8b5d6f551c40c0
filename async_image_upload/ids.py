"""The one parser for upload ids, shared by every path that accepts one.

The model field, the form field and its widget, the serializer field and the
views all read an upload id from user input; each used to spell the parsing
its own way. An id is a UUID in any spelling :class:`uuid.UUID` accepts
(hyphens or not, braces, ``urn:uuid:``), with surrounding whitespace ignored.
"""

from __future__ import annotations

import uuid
from typing import Any

from async_image_upload.values import AsyncImage


class InvalidUploadId(ValueError):
    """The value is not an upload id."""


def parse_upload_id(value: Any) -> uuid.UUID | None:
    """``value`` as an upload id; None for an empty value (``None`` or ``""``).

    Accepts a :class:`uuid.UUID`, an :class:`~async_image_upload.values.AsyncImage`
    or a string; raises :class:`InvalidUploadId` for anything else.
    """
    if value is None or value == "":
        return None
    if isinstance(value, uuid.UUID):
        return value
    if isinstance(value, AsyncImage):
        return value.id
    if isinstance(value, str):
        try:
            return uuid.UUID(value.strip())
        except ValueError:
            raise InvalidUploadId(value) from None
    raise InvalidUploadId(value)
