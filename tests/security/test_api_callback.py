"""Correctly signed callbacks that are still wrong: async_image_upload/api/callback.py.

A valid signature proves the Lambda sent the body, not that the body is sane
(a confused or compromised Lambda, or a holder of the secret). The body must
describe its own upload's keys, and numbers must fit the database's columns:
otherwise 400, and nothing changes.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from async_image_upload import ImageUpload, Status
from async_image_upload.testing import callback_payload, signed_callback_headers

pytestmark = pytest.mark.django_db
URL = "/uploads/callback/"


def send(client: Any, body: bytes, headers: dict[str, str]) -> Any:
    return client.generic("POST", URL, body, content_type="application/json", headers=headers)


def status_of(upload: ImageUpload) -> str:
    return ImageUpload.objects.get(pk=upload.pk).status


# -- cross-upload -------------------------------------------------------------------


@pytest.mark.parametrize("part", ["source", "variants", "both"])
def test_signed_body_naming_another_upload_with_this_uploads_keys_is_400(
    api_client: Any, make_upload: Any, part: str
) -> None:
    """Even correctly signed (a confused or compromised Lambda), upload B cannot be
    given A's objects: every key must lie under B's own prefixes."""
    owner_of_keys, target = make_upload(), make_upload()
    payload = callback_payload(owner_of_keys)
    payload["upload_id"] = str(target.pk)
    if part in ("variants", "both"):
        pass  # the variants still point under owner_of_keys's image prefix
    if part == "source":
        payload["variants"] = callback_payload(target)["variants"]
    if part == "variants":
        payload["source"] = callback_payload(target)["source"]
    body = json.dumps(payload).encode()
    response = send(api_client, body, signed_callback_headers(body))
    assert response.status_code == 400
    assert set(response.json()) & {"source", "variants"}
    assert (status_of(owner_of_keys), status_of(target)) == (Status.PENDING, Status.PENDING)


# -- out-of-range numbers (found by schemathesis: they were a 500) ----------------------


@pytest.mark.parametrize(
    ("where", "value"),
    [
        ("source.width", 2**31),
        ("source.height", 2**64),
        ("source.bytes", 2**63),
        ("variant.width", 2**31),
        ("variant.display_height", 2**70),
        ("variant.bytes", 2**63),
    ],
)
def test_numbers_past_the_database_columns_are_400_not_500(
    api_client: Any, make_upload: Any, where: str, value: int
) -> None:
    upload = make_upload()
    payload = callback_payload(upload)
    container, name = where.split(".")
    target = payload["source"] if container == "source" else payload["variants"][0]
    target[name] = value
    body = json.dumps(payload).encode()
    response = send(api_client, body, signed_callback_headers(body))
    assert response.status_code == 400, response.content
    assert ("source" if container == "source" else "variants") in response.json()
    assert status_of(upload) == Status.PENDING


def test_largest_storable_numbers_are_accepted(api_client: Any, make_upload: Any) -> None:
    """The caps are the columns' own limits, not something tighter."""
    upload = make_upload()
    payload = callback_payload(upload)
    payload["source"].update(width=2**31 - 1, height=2**31 - 1, bytes=2**63 - 1)
    body = json.dumps(payload).encode()
    assert send(api_client, body, signed_callback_headers(body)).status_code == 200
    upload.refresh_from_db()
    assert (upload.source_width, upload.source_bytes) == (2**31 - 1, 2**63 - 1)
