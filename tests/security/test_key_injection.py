"""Bucket/key injection through every client field of the presign endpoint.

The server chooses every key (docs/contract.md): whatever a client puts in
``field``, ``filename``, ``content_type``, ``size`` or in fields it invents, the
answer is a 400 or a policy for exactly ``<TEMP_PREFIX><uuid>`` in the configured
bucket, with the same conditions an honest request gets. No S3 server is needed:
boto3 signs locally, and the policy is what S3 will enforce (tests/strict_s3/).
"""

from __future__ import annotations

import base64
import json
import re
import uuid
from typing import Any

import pytest

from async_image_upload import ImageUpload
from async_image_upload.conf import upload_settings

pytestmark = pytest.mark.django_db

HONEST = {
    "field": "testapp.Photo.image",
    "filename": "IMG_0001.jpg",
    "content_type": "image/jpeg",
    "size": 2_481_152,
}
#: Per-request values in a policy: the upload id and the signing date/credential.
VOLATILE_CONDITIONS = {"x-amz-date", "x-amz-credential", "x-amz-security-token"}


def presign(client: Any, body: dict[str, Any]) -> Any:
    return client.post("/uploads/", body, format="json")


def policy_shape(response_body: dict[str, Any]) -> dict[str, Any]:
    """The policy with this upload's id and the signing time taken out, for comparison."""
    fields = response_body["fields"]
    policy = json.loads(base64.b64decode(fields["policy"]))
    upload_id = response_body["id"]
    conditions = []
    for condition in policy["conditions"]:
        if isinstance(condition, dict):
            (name, value), *_ = condition.items()
            if name.lower() in VOLATILE_CONDITIONS:
                value = "<volatile>"
            condition = {name: str(value).replace(upload_id, "<id>")}
        conditions.append(condition)
    form = {
        name: (
            "<volatile>"
            if name.lower() in VOLATILE_CONDITIONS | {"policy", "x-amz-signature"}
            else value.replace(upload_id, "<id>")
        )
        for name, value in fields.items()
    }
    return {"url": response_body["url"], "conditions": conditions, "form": form}


@pytest.fixture
def honest_shape(alice_client: Any) -> dict[str, Any]:
    response = presign(alice_client, HONEST)
    assert response.status_code == 201
    shape = policy_shape(response.json())
    ImageUpload.objects.all().delete()
    return shape


HOSTILE: dict[str, list[Any]] = {
    "filename": [
        "../../etc/passwd",
        "..\\..\\windows\\win.ini",
        "/absolute/path.jpg",
        "${filename}",
        "IMG.jpg\r\nx-amz-acl: public-read",
        "IMG\x00.jpg",
        "\u202egpj.exe",  # right-to-left override
        "😀📷 ﬁlm.jpg",
        "%2e%2e%2f%2e%2e%2fkey",
        "temp/00000000-0000-4000-8000-000000000000",
        "a" * 255,
        "a" * 256,
        "",
    ],
    "content_type": [
        "image/jpeg\r\nx-amz-acl: public-read",
        "image/jpeg; charset=utf-8",
        "image/jpeg\x00text/html",
        "image/jpeg,text/html",
        " IMAGE/JPEG ",
        "text/html",
        "image/svg+xml",
        "${content_type}",
        "",
        "i" * 101,
    ],
    "field": [
        "../../",
        "testapp.Photo.image/../../",
        "testapp.Photo.image\r\n",
        "${field}",
        "auth.User.password",
        "testapp.Photo",
        "testapp.Photo.image.extra",
        "x" * 256,
    ],
    "size": [
        10**30,
        2**63,
        -1,
        0,
        1.5,
        "1e3",
        "0x10",
        True,
        [1],
        {"$gt": 0},
    ],
}


@pytest.mark.parametrize(
    ("name", "value"),
    [(name, value) for name, values in HOSTILE.items() for value in values],
    ids=lambda v: repr(v)[:40] if not isinstance(v, str) or len(v) > 40 else v,
)
def test_hostile_value_gets_400_or_the_honest_policy(
    alice_client: Any, honest_shape: dict[str, Any], name: str, value: Any
) -> None:
    response = presign(alice_client, {**HONEST, name: value})
    assert response.status_code in (201, 400), response.content
    if response.status_code == 400:
        assert response.json()[name]  # the message names the field
        assert ImageUpload.objects.count() == 0
        return
    body = response.json()
    upload_id = str(uuid.UUID(body["id"]))
    assert body["id"] == upload_id  # canonical form
    assert body["fields"]["key"] == f"{upload_settings.TEMP_PREFIX}{upload_id}"
    assert policy_shape(body) == honest_shape
    stored = ImageUpload.objects.get(pk=upload_id)
    assert not re.search(r"[/\\\x00-\x1f\x7f]", stored.original_filename)


def test_invented_fields_are_ignored(alice_client: Any, honest_shape: dict[str, Any]) -> None:
    """Fields a client adds (a key, a bucket, an ACL, a redirect, metadata) never reach
    the policy: the serializer knows four fields and nothing else."""
    invented = {
        "key": "image/victim/400x400.jpg",
        "bucket": "someone-elses-bucket",
        "Bucket": "someone-elses-bucket",
        "acl": "public-read",
        "success_action_redirect": "https://evil.example/",
        "x-amz-meta-upload-id": "00000000-0000-4000-8000-000000000000",
        "x-amz-meta-variants": "20000x20000",
        "Content-Type": "text/html",
        "fields": {"key": "evil"},
        "conditions": [["starts-with", "$key", ""]],
    }
    response = presign(alice_client, {**HONEST, **invented})
    assert response.status_code == 201, response.content
    assert policy_shape(response.json()) == honest_shape


@pytest.mark.parametrize("content_type", ["multipart", "form"])
def test_form_encoded_requests_get_the_same_treatment(
    alice_client: Any, honest_shape: dict[str, Any], content_type: str
) -> None:
    """The endpoint also parses forms; a form's hostile filename is handled alike."""
    body = {**HONEST, "filename": "../../x.jpg", "key": "evil"}
    if content_type == "form":
        from urllib.parse import urlencode

        response = alice_client.post(
            "/uploads/", urlencode(body), content_type="application/x-www-form-urlencoded"
        )
    else:
        response = alice_client.post("/uploads/", body, format="multipart")
    assert response.status_code == 201, response.content
    assert policy_shape(response.json()) == honest_shape
    assert ImageUpload.objects.get().original_filename == "x.jpg"
