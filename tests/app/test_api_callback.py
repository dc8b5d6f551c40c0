"""The callback body's validation, async_image_upload/api/callback.py.

parse_callback (what the view runs) and CallbackSerializer (what OpenAPI shows)
agree. Both are run on the same payloads: a valid one and many JSON-natural
mutations of it. They must accept and reject the same ones, name the same fields,
and accept the same data. parse_callback is stricter on purpose in one way: it never coerces
types (DRF turns "12" into 12 and "true" into True); that is tested separately.
The last tests send signed but wrong bodies through the endpoint (CallbackView
runs parse_callback): 400 with the field named, 413 when too large.
"""

from __future__ import annotations

import copy
import json
import uuid
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import pytest
from rest_framework.exceptions import ValidationError

from async_image_upload import ImageUpload, Status
from async_image_upload.api.callback import MAX_BYTES, MAX_PIXELS_SIDE, parse_callback
from async_image_upload.api.serializers import CallbackSerializer
from async_image_upload.testing import callback_payload, post_callback, signed_callback_headers

URL = "/uploads/callback/"


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
    from async_image_upload.api.schema import EXAMPLE_CALLBACK

    assert parse_callback(copy.deepcopy(EXAMPLE_CALLBACK))["status"] == "ready"


# -- through the endpoint: signed, but wrong ---------------------------------------


def signed(api_client, body: bytes):
    headers = signed_callback_headers(body)
    return api_client.generic("POST", URL, body, content_type="application/json", headers=headers)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (lambda p: p.update(version=2), "version"),
        (lambda p: p.update(status="processing"), "status"),
        (lambda p: p.update(upload_id="nope"), "upload_id"),
        (lambda p: p.update(variants=[]), "variants"),
        (lambda p: p["variants"][0].update(key="image/someone-else/400x400.jpg"), "variants"),
        (lambda p: p["variants"][0].update(key="../../etc/passwd"), "variants"),
        (lambda p: p["variants"][0].update(width=-1), "variants"),
        (lambda p: p["source"].update(key="temp/another"), "source"),
        (lambda p: p.update(placeholder="javascript:alert(1)"), "placeholder"),
        (lambda p: p.update(status="failed", error=None), "error"),
        (lambda p: p.update(variants=p["variants"] * 10), "variants"),
    ],
)
def test_malformed_bodies_get_400_with_message(api_client, make_upload, mutate, field) -> None:
    upload = make_upload()
    payload = callback_payload(upload)
    mutate(payload)
    response = signed(api_client, json.dumps(payload).encode())
    assert response.status_code == 400, response.content
    assert field in response.json()
    assert ImageUpload.objects.get(pk=upload.pk).status == Status.PENDING


@pytest.mark.django_db
@pytest.mark.parametrize("body", [b"{oops", b"[]", b"\xff\xfe", b"[" * 100_000 + b"]" * 100_000])
def test_junk_json_gets_400(api_client, body) -> None:
    response = signed(api_client, body)
    assert response.status_code == 400
    message = response.json()
    assert message.get("detail") or message.get("non_field_errors")


@pytest.mark.django_db
def test_oversized_body_is_refused_before_parsing(api_client, make_upload) -> None:
    body = b'{"pad": "' + b"x" * (300 * 1024) + b'"}'
    response = signed(api_client, body)
    assert response.status_code == 413


@pytest.mark.django_db
def test_no_session_or_csrf_needed(make_upload) -> None:
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    upload = make_upload()
    assert post_callback(client, callback_payload(upload)).status_code == 200
