"""Fast validation of the Lambda's callback body (docs/contract.md, version 1).

Every upload ends in one callback, so this is the hottest path Django serves
for the package. DRF's nested serializers spent more time copying and walking
their fields than the database spent on the update; this module checks the
same rules in plain Python, stricter on types (JSON numbers, booleans and
strings only, never coerced). :class:`~async_image_upload.api.serializers.CallbackSerializer`
stays as the OpenAPI description; ``tests/app/test_api_callback.py``
keeps the two in step.
"""

from __future__ import annotations

import json
import re
import uuid
from typing import Any

from rest_framework.exceptions import ValidationError

from async_image_upload.conf import upload_settings
from async_image_upload.models import Status
from async_image_upload.variants import MAX_PLACEHOLDER_CHARS, is_valid_placeholder

CALLBACK_VERSION = 1
MAX_VARIANTS = 64
#: The widest values the database columns hold (PositiveInteger / PositiveBigInteger).
MAX_PIXELS_SIDE = 2**31 - 1
MAX_BYTES = 2**63 - 1
_CONTENT_TYPE = re.compile(r"^image/[a-z0-9.+-]+\Z")
_ERROR_CODE = re.compile(r"^[a-z0-9_]+\Z")
#: The placeholder rule itself is ``variants.is_valid_placeholder`` (shared with display.py).
PLACEHOLDER_MESSAGE = (
    "The placeholder must be a data:image/(webp|png|jpeg|avif);base64, URI "
    f"of at most {MAX_PLACEHOLDER_CHARS} characters."
)
_MISSING = object()


class BodyNotJSON(ValueError):
    """The body is not one JSON document the callback can read; the message says why."""


def _object_without_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            # Two parsers could each take a different one: refuse rather than pick.
            raise BodyNotJSON(f"duplicate key {key!r}")
        result[key] = value
    return result


def _refuse_constant(name: str) -> Any:
    raise BodyNotJSON(f"{name} is not JSON")


def load_callback_body(body: bytes) -> Any:
    """The body as JSON, or :class:`BodyNotJSON`.

    Strict where Python's ``json`` is lenient: duplicate keys, ``NaN`` and
    ``Infinity`` are refused. Integers longer than Python converts
    (``sys.get_int_max_str_digits``) raise ``ValueError`` there, and are
    refused here with the rest.
    """
    try:
        return json.loads(
            body, object_pairs_hook=_object_without_duplicates, parse_constant=_refuse_constant
        )
    except BodyNotJSON:
        raise
    except (ValueError, RecursionError) as exc:  # JSONDecodeError, UnicodeDecodeError, int digits
        raise BodyNotJSON(str(exc)) from None


class _Invalid(Exception):
    def __init__(self, message: str) -> None:
        self.message = message


def _text(value: Any, max_length: int, *, nullable: bool = False, blank: bool = False) -> Any:
    if value is None:
        if nullable:
            return None
        raise _Invalid("This field may not be null.")
    if not isinstance(value, str):
        raise _Invalid("Not a valid string.")
    if not blank and not value.strip():
        raise _Invalid("This field may not be blank.")
    if len(value) > max_length:
        raise _Invalid(f"Ensure this field has no more than {max_length} characters.")
    return value


def _integer(value: Any, minimum: int, maximum: int, *, nullable: bool = False) -> Any:
    if value is None and nullable:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise _Invalid("A valid integer is required.")
    if not minimum <= value <= maximum:
        raise _Invalid(f"Ensure this value is between {minimum} and {maximum}.")
    return value


def _object(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _Invalid("Invalid data. Expected a dictionary.")
    return value


class _NestedInvalid(_Invalid):
    """A nested object or list failed; ``errors`` has DRF's nested shape."""

    def __init__(self, errors: Any) -> None:
        super().__init__("")
        self.errors = errors


def _fields(data: dict[str, Any], rules: dict[str, Any], errors: dict[str, Any]) -> dict[str, Any]:
    """Apply ``rules`` (name -> (required, check)) to ``data``, collecting per-field errors."""
    clean: dict[str, Any] = {}
    for name, (required, check) in rules.items():
        value = data.get(name, _MISSING)
        if value is _MISSING:
            if required:
                errors[name] = ["This field is required."]
            continue
        try:
            clean[name] = check(value)
        except _NestedInvalid as exc:
            errors[name] = exc.errors
        except _Invalid as exc:
            errors[name] = [exc.message]
    return clean


_SOURCE_RULES = {
    "key": (True, lambda v: _text(v, 1024)),
    "etag": (False, lambda v: _text(v, 128, nullable=True, blank=True)),
    "format": (False, lambda v: _text(v, 16, nullable=True, blank=True)),
    "width": (False, lambda v: _integer(v, 1, MAX_PIXELS_SIDE, nullable=True)),
    "height": (False, lambda v: _integer(v, 1, MAX_PIXELS_SIDE, nullable=True)),
    "bytes": (False, lambda v: _integer(v, 0, MAX_BYTES, nullable=True)),
}


def _content_type(value: Any) -> str:
    value = _text(value, 64)
    if not _CONTENT_TYPE.match(value):
        raise _Invalid("This value does not match the required pattern.")
    return value


def _boolean(value: Any) -> bool:
    if not isinstance(value, bool):
        raise _Invalid("Must be a valid boolean.")
    return value


_VARIANT_RULES = {
    "name": (True, lambda v: _text(v, 32)),
    "key": (True, lambda v: _text(v, 1024)),
    "blurred": (True, _boolean),
    "width": (True, lambda v: _integer(v, 1, MAX_PIXELS_SIDE)),
    "height": (True, lambda v: _integer(v, 1, MAX_PIXELS_SIDE)),
    "display_width": (False, lambda v: _integer(v, 1, MAX_PIXELS_SIDE)),
    "display_height": (False, lambda v: _integer(v, 1, MAX_PIXELS_SIDE)),
    "bytes": (True, lambda v: _integer(v, 0, MAX_BYTES)),
    "content_type": (True, _content_type),
}


def _error_code(value: Any) -> str:
    value = _text(value, 64)
    if not _ERROR_CODE.match(value):
        raise _Invalid("This value does not match the required pattern.")
    return value


_ERROR_RULES = {
    "code": (True, _error_code),
    "message": (True, lambda v: _text(v, 2000, blank=True)),
}


def _nested(value: Any, rules: dict[str, Any]) -> dict[str, Any]:
    errors: dict[str, Any] = {}
    clean = _fields(_object(value), rules, errors)
    if errors:
        raise _NestedInvalid(errors)
    return clean


def parse_callback(data: Any) -> dict[str, Any]:
    """The validated payload, or :class:`ValidationError` with DRF's error shape."""
    if not isinstance(data, dict):
        raise ValidationError({"non_field_errors": ["Invalid data. Expected a dictionary."]})
    errors: dict[str, Any] = {}
    clean = _fields(data, _PAYLOAD_RULES, errors)
    if errors:
        raise ValidationError(errors)
    _check_consistency(clean)
    return clean


def _version(value: Any) -> int:
    if isinstance(value, bool) or value != CALLBACK_VERSION:
        raise _Invalid(f'"{value}" is not a valid choice.')
    return CALLBACK_VERSION


def _upload_id(value: Any) -> str:
    if not isinstance(value, str):
        raise _Invalid("Must be a valid UUID.")
    try:
        return str(uuid.UUID(value))
    except ValueError:
        raise _Invalid("Must be a valid UUID.") from None


def _status(value: Any) -> str:
    if not isinstance(value, str) or value not in Status.values:
        raise _Invalid(f'"{value}" is not a valid choice.')
    if value not in (Status.READY, Status.FAILED):
        raise _Invalid("A callback reports 'ready' or 'failed'.")
    return value


def _variants(value: Any) -> list[dict[str, Any]]:
    if not isinstance(value, list):
        raise _Invalid('Expected a list of items but got type "' + type(value).__name__ + '".')
    if len(value) > MAX_VARIANTS:
        raise _Invalid(f"Ensure this field has no more than {MAX_VARIANTS} elements.")
    clean, item_errors, failed = [], [], False
    for item in value:
        errors: dict[str, Any] = {}
        try:
            clean.append(_fields(_object(item), _VARIANT_RULES, errors))
        except _Invalid as exc:
            errors = {"non_field_errors": [exc.message]}
        item_errors.append(errors)
        failed = failed or bool(errors)
    if failed:
        raise _NestedInvalid(item_errors)
    return clean


def _placeholder(value: Any) -> str | None:
    value = _text(value, MAX_PLACEHOLDER_CHARS, nullable=True, blank=True)
    if value and not is_valid_placeholder(value):
        raise _Invalid(PLACEHOLDER_MESSAGE)
    return value


def _check_consistency(clean: dict[str, Any]) -> None:
    """Rules across fields: a result may only describe its own upload's keys."""
    upload_id = clean["upload_id"]
    expected_source = f"{upload_settings.TEMP_PREFIX}{upload_id}"
    if clean["source"]["key"] != expected_source:
        raise ValidationError({"source": [f"Key must be {expected_source!r}."]})
    prefix = f"{upload_settings.IMAGE_PREFIX}{upload_id}/"
    for variant in clean["variants"]:
        if not variant["key"].startswith(prefix) or ".." in variant["key"]:
            raise ValidationError({"variants": [f"Variant keys must lie under {prefix!r}."]})
    if clean["status"] == Status.READY and not clean["variants"]:
        raise ValidationError({"variants": ["A ready upload needs variants."]})
    if clean["status"] == Status.FAILED and not clean.get("error"):
        raise ValidationError({"error": ["A failed upload needs an error."]})


_PAYLOAD_RULES = {
    "version": (True, _version),
    "upload_id": (True, _upload_id),
    "status": (True, _status),
    "source": (True, lambda v: _nested(v, _SOURCE_RULES)),
    "variants": (True, _variants),
    "placeholder": (False, _placeholder),
    "error": (False, lambda v: None if v is None else _nested(v, _ERROR_RULES)),
}
