"""Hypothesis properties of the three endpoints: no 5xx, no answer outside the schema.

Issue 12 asked for property tests beside schemathesis (which generates from the
OpenAPI schema): these generate from what an attacker controls — any JSON or
form body for the presign, any header text and any correctly signed body for
the callback (a valid payload with one value swapped for arbitrary JSON, so the
deep paths are reached), any path segment for the status.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rest_framework.test import APIClient

from async_image_upload.signing import SIGNATURE_HEADER, TIMESTAMP_HEADER
from async_image_upload.testing import callback_payload, signed_callback_headers

pytestmark = pytest.mark.django_db
PROPERTY = settings(
    max_examples=60,
    deadline=None,
    database=None,
    # The user, the upload and the client are deliberately shared by all examples.
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=40),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=12,
)
PRESIGN_KEYS = st.sampled_from(["field", "filename", "content_type", "size"]) | st.text(max_size=8)
HEADER_TEXT = st.text(max_size=120) | st.text(alphabet="v1=0123456789abcdef,é\x00 ", max_size=80)


@pytest.fixture
def loose_limits(settings: Any) -> None:
    """Throttles and caps would answer most examples with 429; they have tests of their own."""
    settings.ASYNC_IMAGE_UPLOAD = {
        **settings.ASYNC_IMAGE_UPLOAD,
        "THROTTLE_RATE": "1000000/minute",
        "STATUS_THROTTLE_RATE": "1000000/minute",
        "MAX_PENDING_PER_USER": 1000000,
    }


def _is_error_list_dict(body: Any) -> bool:
    return (
        isinstance(body, dict)
        and body
        and all(isinstance(messages, list | dict) for messages in body.values())
    )


def _check_presign_answer(response: Any) -> None:
    assert response.status_code in (201, 400), response.content
    body = response.json()
    if response.status_code == 201:
        assert set(body) == {
            "id", "status", "url", "fields", "max_bytes", "expires_at", "status_url",
        }  # fmt: skip
        assert body["status"] == "pending"
        assert body["fields"]["key"].endswith(body["id"])
    else:
        assert _is_error_list_dict(body), body


@PROPERTY
@given(body=st.dictionaries(PRESIGN_KEYS, JSON, max_size=5) | JSON)
def test_any_json_presign_body_is_201_or_400(
    loose_limits: None, alice_client: APIClient, body: Any
) -> None:
    response = alice_client.post("/uploads/", json.dumps(body), content_type="application/json")
    _check_presign_answer(response)


@PROPERTY
@given(body=st.dictionaries(PRESIGN_KEYS, st.text(max_size=30), max_size=5))
def test_any_form_presign_body_is_201_or_400(
    loose_limits: None, alice_client: APIClient, body: dict[str, str]
) -> None:
    _check_presign_answer(alice_client.post("/uploads/", body))


@PROPERTY
@given(timestamp=st.none() | HEADER_TEXT, signature=st.none() | HEADER_TEXT)
def test_any_callback_header_is_401(
    make_upload: Any, api_client: APIClient, timestamp: str | None, signature: str | None
) -> None:
    body = json.dumps(callback_payload(make_upload())).encode()
    headers = {
        name: value
        for name, value in ((TIMESTAMP_HEADER, timestamp), (SIGNATURE_HEADER, signature))
        if value is not None
    }
    response = api_client.generic(
        "POST", "/uploads/callback/", body, content_type="application/json", headers=headers
    )
    assert response.status_code == 401
    assert set(response.json()) == {"detail"}


def _mutations(payload: dict[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
    """``payload`` with one value (top level, in source or in a variant) replaced or dropped."""
    top = st.sampled_from(sorted(payload)).flatmap(
        lambda key: st.one_of(st.just(None), JSON).map(
            lambda value: {**payload, key: value} if value is not None else _without(payload, key)
        )
    )
    source = st.tuples(st.sampled_from(sorted(payload["source"])), JSON).map(
        lambda kv: {**payload, "source": {**payload["source"], kv[0]: kv[1]}}
    )
    mutations = top | source | st.just(payload)
    if not payload["variants"]:  # a failure reports none
        return mutations
    first, *rest = payload["variants"]
    variant = st.tuples(st.sampled_from(sorted(first)), JSON).map(
        lambda kv: {**payload, "variants": [{**first, kv[0]: kv[1]}, *rest]}
    )
    return mutations | variant


def _without(payload: dict[str, Any], key: str) -> dict[str, Any]:
    return {k: v for k, v in payload.items() if k != key}


CALLBACK_ANSWERS = {200: {"id", "status", "outcome"}, 404: {"detail"}, 409: {"detail", "status"}}


@PROPERTY
@given(data=st.data())
def test_any_signed_callback_body_is_answered_within_the_schema(
    make_upload: Any, api_client: APIClient, data: st.DataObject
) -> None:
    upload = make_upload()
    status = data.draw(st.sampled_from(["ready", "failed"]))
    payload = data.draw(_mutations(callback_payload(upload, status)) | JSON)
    body = json.dumps(payload).encode()
    response = api_client.generic(
        "POST",
        "/uploads/callback/",
        body,
        content_type="application/json",
        headers=signed_callback_headers(body),
    )
    assert response.status_code in (200, 400, 404, 409), response.content
    answer = response.json()
    if response.status_code == 400:
        assert _is_error_list_dict(answer) or set(answer) == {"detail"}, answer
    else:
        assert set(answer) == CALLBACK_ANSWERS[response.status_code], answer
    if response.status_code == 200:
        assert answer["outcome"] in ("applied", "duplicate")
        assert answer["status"] in ("ready", "failed")


@PROPERTY
# A "/" makes another path, which the view never sees (Django's own 404 answers it).
@given(
    segment=st.text(min_size=1, max_size=60).filter(lambda s: "/" not in s) | st.uuids().map(str)
)
def test_any_status_path_is_404_or_the_owners_upload(
    loose_limits: None, alice_client: APIClient, make_upload: Any, segment: str
) -> None:
    from urllib.parse import quote

    response = alice_client.get(f"/uploads/{quote(segment, safe='')}/")
    assert response.status_code in (200, 404), response.content
    if response.status_code == 404:
        assert set(response.json()) == {"detail"}
    else:
        assert uuid.UUID(response.json()["id"]) == uuid.UUID(segment.strip())


def test_the_owners_upload_is_found_by_the_status_path(
    loose_limits: None, alice_client: APIClient, make_upload: Any
) -> None:
    upload = make_upload()
    response = alice_client.get(f"/uploads/{upload.pk}/")
    assert response.status_code == 200
    assert set(response.json()) == {
        "id", "status", "field", "filename", "content_type", "created_at", "expires_at",
        "completed_at", "source", "variants", "placeholder", "error",
    }  # fmt: skip
