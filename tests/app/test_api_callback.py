"""parse_callback (what the view runs) and CallbackSerializer (what OpenAPI shows) agree.

Both are run on the same payloads: a valid one and many JSON-natural mutations of
it. They must accept and reject the same ones, name the same fields, and accept
the same data. parse_callback is stricter on purpose in one way: it never coerces
types (DRF turns "12" into 12 and "true" into True); that is tested separately.
"""

from __future__ import annotations

import copy
import uuid
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import pytest
from rest_framework.exceptions import ValidationError

from async_image_upload.api.callback import MAX_BYTES, MAX_PIXELS_SIDE, parse_callback
from async_image_upload.api.serializers import CallbackSerializer
from async_image_upload.testing import callback_payload


def an_upload() -> SimpleNamespace:
    """What callback_payload reads of an upload; no database needed."""
    return SimpleNamespace(
        pk=uuid.uuid4(),
        declared_bytes=123_456,
        requested_variants=["50x50", "100x100", "400x400", "original"],
        blur_radius=20,
    )


def set_path(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def mutate(payload: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        target: Any = payload
        for part in parents:
            target = target[int(part)] if part.isdigit() else target[part]
        if value is DELETE:
            del target[int(last) if last.isdigit() else last]
        else:
            target[int(last) if last.isdigit() else last] = value

    return mutate


DELETE = object()
MUTATIONS: list[tuple[str, Any]] = [
    ("version", 2), ("version", None), ("version", DELETE),
    ("upload_id", "nope"), ("upload_id", None), ("upload_id", DELETE),
    ("status", "processing"), ("status", "pending"), ("status", "ready!"), ("status", None),
    ("source", None), ("source", "temp/x"), ("source", DELETE), ("source.key", DELETE),
    ("source.key", ""), ("source.key", "temp/another"), ("source.key", "k" * 1025),
    ("source.etag", None), ("source.etag", ""), ("source.etag", "e" * 129),
    ("source.format", None), ("source.format", "F" * 17),
    ("source.width", None), ("source.width", 0), ("source.width", MAX_PIXELS_SIDE),
    ("source.width", MAX_PIXELS_SIDE + 1), ("source.bytes", -1), ("source.bytes", MAX_BYTES),
    ("source.bytes", MAX_BYTES + 1), ("source.height", DELETE),
    ("variants", []), ("variants", None), ("variants", {}), ("variants", "x"),
    ("variants.0", None), ("variants.0", "x"), ("variants.0.name", DELETE),
    ("variants.0.name", "n" * 33), ("variants.0.key", "image/someone-else/400x400.jpg"),
    ("variants.0.key", "../../etc/passwd"), ("variants.0.blurred", None),
    ("variants.0.width", 0), ("variants.0.width", -1), ("variants.0.width", MAX_PIXELS_SIDE + 1),
    ("variants.0.display_width", DELETE), ("variants.0.display_height", 0),
    ("variants.0.bytes", -1), ("variants.0.bytes", MAX_BYTES + 1),
    ("variants.0.content_type", "text/html"), ("variants.0.content_type", "image/JPEG"),
    ("placeholder", None), ("placeholder", ""), ("placeholder", DELETE),
    ("placeholder", "javascript:alert(1)"), ("placeholder", "data:image/" + "A" * 8200),
    ("error", {"code": "x", "message": "y"}), ("error", {"code": "Bad Code", "message": "y"}),
    ("error", {"code": "x"}), ("error", "boom"),
]  # fmt: skip


def outcome(check: Callable[[dict[str, Any]], Any], payload: dict[str, Any]) -> Any:
    try:
        return ("ok", check(copy.deepcopy(payload)))
    except ValidationError as exc:
        return ("invalid", sorted(exc.detail) if isinstance(exc.detail, dict) else exc.detail)


def via_serializer(payload: dict[str, Any]) -> dict[str, Any]:
    serializer = CallbackSerializer(data=payload)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


def normalised(result: Any) -> Any:
    """DRF returns OrderedDicts and drops absent optional keys the same way we do."""
    status, value = result
    if status != "ok":
        return result
    return status, _plain(value)


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


CASES = [
    (status, path, value)
    for status in ("ready", "failed")
    for path, value in [(None, None), *MUTATIONS]
    # A failed payload has no variants to mutate.
    if not (status == "failed" and path and path.startswith("variants."))
]


@pytest.mark.parametrize(("status", "path", "value"), CASES)
def test_fast_validator_agrees_with_the_documented_serializer(status, path, value) -> None:
    payload = callback_payload(an_upload(), status)
    if path is not None:
        set_path(path, value)(payload)
    assert normalised(outcome(parse_callback, payload)) == normalised(
        outcome(via_serializer, payload)
    )


@pytest.mark.parametrize(
    ("path", "value"),
    [("version", "1"), ("source.width", "4000"), ("variants.0.blurred", "true"),
     ("variants.0.width", 400.0), ("variants.0.name", 400), ("source.width", True),
     ("variants.0.content_type", "image/jpeg\n")],
)  # fmt: skip
def test_types_are_never_coerced_nor_whitespace_trimmed(path, value) -> None:
    payload = callback_payload(an_upload())
    set_path(path, value)(payload)
    with pytest.raises(ValidationError):
        parse_callback(payload)


def test_a_valid_payload_comes_back_normalised() -> None:
    upload = an_upload()
    payload = callback_payload(upload)
    payload["upload_id"] = str(upload.pk).upper()
    clean = parse_callback(payload)
    assert clean["upload_id"] == str(upload.pk)
    assert len(clean["variants"]) == 8


def test_the_documented_example_is_a_valid_callback() -> None:
    from async_image_upload.api.views import EXAMPLE_CALLBACK

    assert parse_callback(copy.deepcopy(EXAMPLE_CALLBACK))["status"] == "ready"
