"""parse_presign_request (the view) and PresignRequestSerializer (OpenAPI) agree.

Both run on the same requests — a valid one and many mutations, as JSON
objects and as form-encoded QueryDicts — and must accept the same ones with
the same validated data, or refuse them with the same error body, message for
message. The endpoint tests (tests/app/test_presign.py, tests/security) cover
the HTTP side.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.http import QueryDict
from django.utils import translation
from rest_framework.exceptions import ValidationError

from async_image_upload.api.presign import parse_presign_request
from async_image_upload.api.serializers import PresignRequestSerializer

VALID = {
    "field": "testapp.Photo.image",
    "filename": "IMG_0001.jpg",
    "content_type": "image/jpeg",
    "size": 50_000,
}


class _Drop:
    """Marks a key to remove; its repr is stable so test ids match across xdist workers."""

    def __repr__(self) -> str:
        return "DROP"


DROP = _Drop()

MUTATIONS: list[tuple[str, Any]] = [
    # field
    ("field", DROP),
    ("field", ""),
    ("field", "   "),
    ("field", None),
    ("field", "testapp.Avatar.image"),
    ("field", "testapp.Photo.title"),
    ("field", "nope.Model.field"),
    ("field", "no-dots"),
    ("field", "x" * 256),
    ("field", 12),
    ("field", True),
    ("field", ["testapp.Photo.image"]),
    ("field", {"a": 1}),
    ("field", "testapp.Photo.image\x00"),
    # filename
    ("filename", DROP),
    ("filename", ""),
    ("filename", " \t "),
    ("filename", None),
    ("filename", "../../etc/passwd"),
    ("filename", "C:\\Users\\me\\Pictures\\IMG.jpg"),
    ("filename", "  spaced name.jpg  "),
    ("filename", "tab\there\u202e.jpg"),
    ("filename", "a" * 255),
    ("filename", "a" * 256),
    ("filename", "nul\x00.jpg"),
    ("filename", "\ud800.jpg"),
    ("filename", "x" * 300 + "\x00\udfff"),
    ("filename", 3.5),
    ("filename", False),
    # content_type
    ("content_type", DROP),
    ("content_type", ""),
    ("content_type", "  "),
    ("content_type", None),
    ("content_type", " IMAGE/JPEG "),
    ("content_type", "image/png"),
    ("content_type", "image/tiff"),
    ("content_type", "text/html"),
    ("content_type", "i" * 101),
    ("content_type", 7),
    ("content_type", True),
    ("content_type", ["image/jpeg"]),
    # size
    ("size", DROP),
    ("size", None),
    ("size", ""),
    ("size", 0),
    ("size", -5),
    ("size", 1),
    ("size", "2048"),
    ("size", "2048.0"),
    ("size", 2048.0),
    ("size", 2048.5),
    ("size", "12abc"),
    ("size", "9" * 1001),
    ("size", True),
    ("size", [1]),
    ("size", 20 * 1024 * 1024),
    ("size", 20 * 1024 * 1024 + 1),
    ("size", 10**30),
]
# Cross-field rules with a field of its own: Avatar allows JPEG/PNG up to 2 MiB.
COMBINATIONS: list[dict[str, Any]] = [
    {"field": "testapp.Avatar.image", "content_type": "image/webp"},
    {"field": "testapp.Avatar.image", "size": 2 * 1024 * 1024 + 1},
    {"field": "testapp.Avatar.image", "size": 2 * 1024 * 1024, "content_type": "image/png"},
    {"field": "", "content_type": "IMAGE/HEIC"},
    {"content_type": "", "size": 0, "field": "bad", "filename": None},
]
NOT_OBJECTS = [[], [VALID], "a string", 5, None, True]


def mutated(name: str, value: Any) -> dict[str, Any]:
    data = dict(VALID)
    if value is DROP:
        del data[name]
    else:
        data[name] = value
    return data


def outcome(run: Any) -> tuple[str, Any]:
    try:
        result = run()
    except ValidationError as exc:
        # Compare what a client would read: the JSON body.
        return "refused", json.loads(json.dumps(exc.detail))
    return "accepted", result


def serializer_says(data: Any) -> tuple[str, Any]:
    def run() -> Any:
        serializer = PresignRequestSerializer(data=data)
        serializer.is_valid(raise_exception=True)
        return dict(serializer.validated_data)

    return outcome(run)


def fast_path_says(data: Any) -> tuple[str, Any]:
    return outcome(lambda: parse_presign_request(data))


def as_form(data: dict[str, Any]) -> QueryDict | None:
    """The same request form-encoded, where every value is text (None if it cannot be)."""
    form = QueryDict(mutable=True)
    for name, value in data.items():
        if value is None or isinstance(value, list | dict | bool):
            return None
        form[name] = str(value)
    return form


CASES = (
    [pytest.param(VALID, id="valid")]
    + [pytest.param(mutated(n, v), id=f"{n}={v!r:.40}") for n, v in MUTATIONS]
    + [pytest.param({**VALID, **c}, id=f"combo{i}") for i, c in enumerate(COMBINATIONS)]
)


@pytest.mark.parametrize("data", CASES)
def test_json_requests_get_the_same_answer(data) -> None:
    assert fast_path_says(data) == serializer_says(data)


FORM_CASES = [
    pytest.param(form, id=case.id)
    for case in CASES
    if (form := as_form(case.values[0])) is not None
]


@pytest.mark.parametrize("form", FORM_CASES)
def test_form_requests_get_the_same_answer(form) -> None:
    assert fast_path_says(form) == serializer_says(form)


@pytest.mark.parametrize("data", NOT_OBJECTS, ids=repr)
def test_non_objects_get_the_same_answer(data) -> None:
    assert fast_path_says(data) == serializer_says(data)


def test_messages_follow_the_active_language() -> None:
    """The fast path uses DRF's own message ids, so DRF's translations apply to it too."""
    data = mutated("content_type", DROP)
    with translation.override("de"):
        fast, slow = fast_path_says(data), serializer_says(data)
    assert fast == slow
    assert fast[1]["content_type"] != ["This field is required."]


def test_valid_request_resolves_the_field_and_its_options() -> None:
    verdict, data = fast_path_says({**VALID, "field": "testapp.Avatar.image", "size": "10"})
    assert verdict == "accepted"
    assert data["field"].field_id == "testapp.Avatar.image"
    assert data["options"].variants == ["64x64", "256x256"]
    assert data["size"] == 10
