"""Validation of the presign request: the rules, and a fast path that applies them.

Every upload starts with a presign, and DRF's ``Serializer`` machinery (copying
its declared fields, walking validators, building error details) cost more
than the field rules themselves — about a tenth of the endpoint's CPU time on
the benchmark box. :func:`parse_presign_request` applies the same rules in
plain Python with DRF's own messages, and
:class:`~async_image_upload.api.serializers.PresignRequestSerializer` calls the
same rule functions and stays the OpenAPI description;
``tests/app/test_presign_validation.py`` runs both on the same inputs (JSON and
form-encoded) and requires identical results and errors.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from django.utils.translation import gettext as _
from rest_framework.exceptions import ValidationError

from async_image_upload._sizes import describe_bytes
from async_image_upload.fields import get_async_image_field
from async_image_upload.services import UploadOptions

FIELD_MAX_LENGTH = 255
FILENAME_MAX_LENGTH = 255
CONTENT_TYPE_MAX_LENGTH = 100
#: DRF's IntegerField guards: longer strings are refused before parsing, and a
#: trailing ".0" is allowed ("5.0" is 5).
_INTEGER_MAX_STRING_LENGTH = 1000
_DECIMAL_ZEROS = re.compile(r"\.0*\s*$")
_MISSING = object()


class RuleError(Exception):
    """A rule failed; ``detail`` is what DRF would report (a list, or a dict of lists)."""

    def __init__(self, detail: Any) -> None:
        super().__init__(detail)
        self.detail = detail


# -- the rules, shared with PresignRequestSerializer ---------------------------------


def resolve_field(value: str) -> Any:
    """``app_label.Model.field`` to its AsyncImageField; blank means none."""
    if not value:
        return None
    try:
        return get_async_image_field(value)
    except LookupError as exc:
        raise RuleError([f"Unknown field {value!r}."]) from exc


def clean_filename(value: str) -> str:
    """The last path component, without control characters: the name is for people."""
    name = value.replace("\\", "/").rsplit("/", 1)[-1]
    return "".join(ch for ch in name if ch.isprintable())[:FILENAME_MAX_LENGTH]


def apply_upload_rules(attrs: dict[str, Any]) -> dict[str, Any]:
    """Across fields: the type and size the chosen field (or the settings) allow."""
    options = UploadOptions.for_field(attrs.get("field"))
    content_type = attrs["content_type"].strip().lower()
    if content_type not in options.content_types:
        raise RuleError(
            {
                "content_type": [
                    f"{attrs['content_type']!r} is not accepted. "
                    f"Allowed: {', '.join(options.content_types)}."
                ]
            }
        )
    if attrs["size"] > options.max_bytes:
        limit = describe_bytes(options.max_bytes)
        raise RuleError({"size": [f"The file is larger than the limit of {limit}."]})
    attrs["content_type"] = content_type
    attrs["options"] = options
    return attrs


# -- DRF's field semantics, for the fast path ----------------------------------------


def _char(value: Any, max_length: int, *, allow_blank: bool) -> str:
    """``serializers.CharField(max_length=…, allow_blank=…)``, trimming whitespace."""
    if value is None:
        raise RuleError([_("This field may not be null.")])
    if value == "" or str(value).strip() == "":
        if not allow_blank:
            raise RuleError([_("This field may not be blank.")])
        return ""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise RuleError([_("Not a valid string.")])
    text = str(value).strip()
    messages = []
    if len(text) > max_length:
        messages.append(
            _("Ensure this field has no more than {max_length} characters.").format(
                max_length=max_length
            )
        )
    if "\x00" in text:
        messages.append(_("Null characters are not allowed."))
    surrogate = next((ch for ch in text if 0xD800 <= ord(ch) <= 0xDFFF), None)
    if surrogate is not None:
        messages.append(
            _("Surrogate characters are not allowed: U+{code_point:X}.").format(
                code_point=ord(surrogate)
            )
        )
    if messages:
        raise RuleError(messages)
    return text


def _positive_integer(value: Any) -> int:
    """``serializers.IntegerField(min_value=1)``."""
    if value is None:
        raise RuleError([_("This field may not be null.")])
    if isinstance(value, str) and len(value) > _INTEGER_MAX_STRING_LENGTH:
        raise RuleError([_("String value too large.")])
    try:
        number = int(_DECIMAL_ZEROS.sub("", str(value)))
    except (ValueError, TypeError):
        raise RuleError([_("A valid integer is required.")]) from None
    if number < 1:
        raise RuleError(
            [_("Ensure this value is greater than or equal to {min_value}.").format(min_value=1)]
        )
    return number


#: name -> (required, check); each check is the field's type rule, then its own rule.
_RULES: dict[str, tuple[bool, Callable[[Any], Any]]] = {
    "field": (
        False,
        lambda v: resolve_field(_char(v, FIELD_MAX_LENGTH, allow_blank=True)),
    ),
    "filename": (
        False,
        lambda v: clean_filename(_char(v, FILENAME_MAX_LENGTH, allow_blank=True)),
    ),
    "content_type": (True, lambda v: _char(v, CONTENT_TYPE_MAX_LENGTH, allow_blank=False)),
    "size": (True, _positive_integer),
}


def _value(data: Mapping[str, Any], name: str, required: bool, form: bool) -> Any:
    """What DRF's ``Field.get_value`` reads: forms send '' for an omitted optional field."""
    if not form:
        return data.get(name, _MISSING)
    if name not in data:
        return _MISSING
    value = data[name]
    if value == "" and not required:
        return ""  # every optional field here allows blank
    return value


def parse_presign_request(data: Any) -> dict[str, Any]:
    """The validated request, or :class:`ValidationError` exactly as the serializer raises it."""
    if data is None:  # a JSON body of null
        raise ValidationError({"non_field_errors": [_("No data provided")]})
    if not isinstance(data, Mapping):
        message = _("Invalid data. Expected a dictionary, but got {datatype}.")
        raise ValidationError({"non_field_errors": [message.format(datatype=type(data).__name__)]})
    form = hasattr(data, "getlist")
    clean: dict[str, Any] = {}
    errors: dict[str, Any] = {}
    for name, (required, check) in _RULES.items():
        value = _value(data, name, required, form)
        if value is _MISSING:
            if required:
                errors[name] = [_("This field is required.")]
            continue
        try:
            clean[name] = check(value)
        except RuleError as exc:
            errors[name] = exc.detail
    if errors:
        raise ValidationError(errors)
    try:
        return apply_upload_rules(clean)
    except RuleError as exc:
        raise ValidationError(exc.detail) from None
