"""api/callback.py's body parser: every unreadable signed body is a 400 (issue 12.3)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from async_image_upload.testing import callback_payload, signed_callback_headers

pytestmark = pytest.mark.django_db
URL = "/uploads/callback/"


def _post_signed(client: Any, body: bytes) -> Any:
    return client.generic(
        "POST", URL, body, content_type="application/json", headers=signed_callback_headers(body)
    )


@pytest.mark.parametrize(
    "body",
    [
        b'{"version": ' + b"9" * 5000 + b"}",  # past Python's int-digits limit: ValueError
        b'{"version": 1, "version": 1}',
        b'{"version": NaN}',
        b'{"version": Infinity}',
        b'{"version": -Infinity}',
        b"[" * 100_000,
        b"\xff\xfe\x00",
        b"",
    ],
    ids=["5000-digits", "duplicate-key", "nan", "inf", "-inf", "deep", "bad-utf", "empty"],
)
def test_a_correctly_signed_unreadable_body_is_400(api_client: Any, body: bytes) -> None:
    response = _post_signed(api_client, body)
    assert response.status_code == 400, response.content
    assert response.json()["detail"].startswith("Body is not JSON: ")


def test_duplicate_keys_in_nested_objects_are_refused(api_client: Any, make_upload: Any) -> None:
    upload = make_upload()
    text = json.dumps(callback_payload(upload))
    body = text.replace('"format": "JPEG"', '"format": "JPEG", "format": "GIF"', 1).encode()
    response = _post_signed(api_client, body)
    assert response.status_code == 400
    assert "duplicate key 'format'" in response.json()["detail"]
    upload.refresh_from_db()
    assert upload.status == "pending"


def test_a_duplicated_status_cannot_smuggle_a_second_answer(
    api_client: Any, make_upload: Any
) -> None:
    upload = make_upload()
    text = json.dumps(callback_payload(upload))
    body = text.replace('"status": "ready"', '"status": "failed", "status": "ready"', 1).encode()
    assert _post_signed(api_client, body).status_code == 400


def test_the_parser_keeps_ordinary_json() -> None:
    from async_image_upload.api.callback import BodyNotJSON, load_callback_body

    assert load_callback_body(b'{"a": [1, 2.5, "x", null, true], "b": {"c": 1}}') == {
        "a": [1, 2.5, "x", None, True],
        "b": {"c": 1},
    }
    with pytest.raises(BodyNotJSON):
        load_callback_body(b'{"a": 1, "a": 2}')


# -- the placeholder (issue 12.7) -------------------------------------------------------

TINY_WEBP = "data:image/webp;base64,UklGRhoAAABXRUJQVlA4TA0AAAAvAAAAEAcQERGIiP4HAA=="


@pytest.mark.parametrize(
    "placeholder",
    [
        "data:image/png');background-image:url('https://evil.example/x.png",
        "data:image/svg+xml;base64,PHN2ZyB4bWxucz0iaHR0cDovL3d3dy53My5vcmcvMjAwMC9zdmciLz4=",
        "data:image/svg+xml,<svg onload=alert(1)>",
        "data:image/png,rawbytes",
        "data:image/webp;base64,not base64!",
        "data:image/webp;base64,UklGRhoAAABXRUJQVlA4TA0AAAAvAAAAEAcQERGIiP4HAA",  # bad padding
        "data:image/webp;base64,",
        'data:image/jpeg;base64,/9j/"><script>alert(1)</script>',
        "data:image/gif;base64,R0lGODlhAQABAAAAACw=",
        "DATA:image/png;base64,iVBORw0KGgo=",
        " data:image/png;base64,iVBORw0KGgo=",
        "data:image/png;base64,iVBORw0KGgo=\n",
        "javascript:alert(1)",
        "data:image/webp;base64," + "A" * 8192,
    ],
)
def test_a_placeholder_other_than_a_small_raster_data_uri_is_400(
    api_client: Any, make_upload: Any, placeholder: str
) -> None:
    from async_image_upload.api.serializers import CallbackSerializer

    upload = make_upload()
    payload = {**callback_payload(upload), "placeholder": placeholder}
    response = _post_signed(api_client, json.dumps(payload).encode())
    assert response.status_code == 400, response.content
    assert "placeholder" in response.json()
    upload.refresh_from_db()
    assert (upload.status, upload.placeholder) == ("pending", "")
    assert not CallbackSerializer(data=payload).is_valid()  # the OpenAPI twin agrees


@pytest.mark.parametrize(
    "placeholder",
    [TINY_WEBP, "data:image/png;base64,iVBORw0KGgo=", "data:image/avif;base64,AAAA", "", None],
)
def test_a_raster_data_uri_placeholder_is_accepted(
    api_client: Any, make_upload: Any, placeholder: str | None
) -> None:
    upload = make_upload()
    payload = {**callback_payload(upload), "placeholder": placeholder}
    assert _post_signed(api_client, json.dumps(payload).encode()).status_code == 200
    upload.refresh_from_db()
    assert upload.placeholder == (placeholder or "")
