"""The presigned POST against an S3 that enforces POST policies (LocalStack).

Every test asks the real API for a policy, then sends a real multipart POST over
HTTP, changed in one way a hostile or buggy client could change it. S3 must
refuse each change with its own error code and store nothing; the untouched form
must be accepted and store exactly what the policy pinned.

LocalStack checks the policy's expiry and every condition, but (unlike S3) not
the SigV4 signature over the policy nor extra form fields; docs/security.md says
which defences rest on real S3 alone.
"""

from __future__ import annotations

import re
import time
from typing import Any

import pytest
import requests

from async_image_upload.testing.pytest_plugin import S3Bucket

pytestmark = [pytest.mark.strict_s3, pytest.mark.django_db]

JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 2048 + b"\xff\xd9"  # bytes only; S3 does not decode


def presign(client: Any, size: int = len(JPEG), **overrides: Any) -> dict[str, Any]:
    body = {
        "field": "testapp.Photo.image",
        "filename": "IMG_0001.jpg",
        "content_type": "image/jpeg",
        "size": size,
        **overrides,
    }
    response = client.post("/uploads/", body, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def post_form(url: str, fields: dict[str, str], payload: bytes) -> requests.Response:
    """The browser's multipart POST: every policy field, then the file last."""
    return requests.post(url, data=fields, files={"file": ("photo.jpg", payload)}, timeout=30)


def s3_error_code(response: requests.Response) -> str:
    """S3's <Code> element (a regex, not an XML parser: the reply is not trusted input)."""
    match = re.search(r"<Code>([^<]+)</Code>", response.text)
    return match.group(1) if match else ""


def stored_keys(bucket: S3Bucket) -> list[str]:
    listing = bucket.client.list_objects_v2(Bucket=bucket.name)
    return [item["Key"] for item in listing.get("Contents", [])]


def test_the_untouched_form_is_accepted_and_stores_what_the_policy_pinned(
    alice_client: Any, strict_bucket: S3Bucket
) -> None:
    presigned = presign(alice_client)
    response = post_form(presigned["url"], presigned["fields"], JPEG)
    assert response.status_code == 204, response.text
    key = f"temp/{presigned['id']}"
    assert stored_keys(strict_bucket) == [key]
    head = strict_bucket.client.head_object(Bucket=strict_bucket.name, Key=key)
    assert head["ContentLength"] == len(JPEG)
    assert head["ContentType"] == "image/jpeg"
    assert head["Metadata"] == {
        "upload-id": presigned["id"],
        "variants": presigned["fields"]["x-amz-meta-variants"],
        "blur-radius": presigned["fields"]["x-amz-meta-blur-radius"],
    }


def test_a_file_over_the_declared_maximum_is_refused(
    alice_client: Any, strict_bucket: S3Bucket, settings: Any
) -> None:
    """The policy's content-length-range is the field's cap; the declared size is not trusted."""
    presigned = presign(alice_client)
    too_big = b"\xff" * (presigned["max_bytes"] + 1)
    response = post_form(presigned["url"], presigned["fields"], too_big)
    assert response.status_code == 400, response.text
    assert s3_error_code(response) == "EntityTooLarge"
    assert stored_keys(strict_bucket) == []


def test_an_empty_file_is_refused(alice_client: Any, strict_bucket: S3Bucket) -> None:
    """content-length-range starts at 1, so a real S3 never stores an empty source."""
    presigned = presign(alice_client)
    response = post_form(presigned["url"], presigned["fields"], b"")
    assert response.status_code == 400, response.text
    assert s3_error_code(response) == "EntityTooSmall"
    assert stored_keys(strict_bucket) == []


@pytest.mark.parametrize(
    ("field", "value"),
    [
        pytest.param("key", "temp/someone-elses-upload", id="another-key"),
        pytest.param("key", "image/{id}/400x400.jpg", id="output-key"),
        pytest.param("key", "temp/{id}/../../index.html", id="dot-dot-key"),
        pytest.param("key", "${filename}", id="filename-substitution"),
        pytest.param("Content-Type", "text/html", id="html-content-type"),
        pytest.param("Content-Type", "image/svg+xml", id="svg-content-type"),
        pytest.param("x-amz-meta-upload-id", "00000000-0000-4000-8000-000000000000", id="meta-id"),
        pytest.param("x-amz-meta-variants", "20000x20000", id="meta-variants"),
        pytest.param("x-amz-meta-blur-radius", "250", id="meta-blur"),
    ],
)
def test_a_changed_field_is_refused(
    alice_client: Any, strict_bucket: S3Bucket, field: str, value: str
) -> None:
    presigned = presign(alice_client)
    fields = {**presigned["fields"], field: value.replace("{id}", presigned["id"])}
    response = post_form(presigned["url"], fields, JPEG)
    assert response.status_code == 403, response.text
    assert s3_error_code(response) == "AccessDenied"
    assert "Policy Condition failed" in response.text
    assert stored_keys(strict_bucket) == []


@pytest.mark.parametrize("field", ["x-amz-meta-upload-id", "x-amz-meta-variants", "Content-Type"])
def test_a_dropped_field_is_refused(alice_client: Any, strict_bucket: S3Bucket, field: str) -> None:
    presigned = presign(alice_client)
    fields = {name: value for name, value in presigned["fields"].items() if name != field}
    response = post_form(presigned["url"], fields, JPEG)
    assert response.status_code == 403, response.text
    assert s3_error_code(response) == "AccessDenied"
    assert stored_keys(strict_bucket) == []


def test_one_policy_cannot_be_used_for_another_bucket(
    alice_client: Any, strict_bucket: S3Bucket
) -> None:
    other = f"{strict_bucket.name}-other"
    strict_bucket.client.create_bucket(Bucket=other)
    presigned = presign(alice_client)
    url = presigned["url"].rstrip("/").rsplit("/", 1)[0] + f"/{other}"
    response = post_form(url, presigned["fields"], JPEG)
    assert response.status_code == 403, response.text
    assert s3_error_code(response) == "AccessDenied"
    assert strict_bucket.client.list_objects_v2(Bucket=other).get("KeyCount", 0) == 0


def test_an_expired_policy_is_refused(
    alice_client: Any, strict_bucket: S3Bucket, settings: Any
) -> None:
    """PRESIGN_EXPIRY is what the policy says; waiting past it is the honest way to test it."""
    settings.ASYNC_IMAGE_UPLOAD = {**settings.ASYNC_IMAGE_UPLOAD, "PRESIGN_EXPIRY": 1}
    presigned = presign(alice_client)
    time.sleep(2.1)
    response = post_form(presigned["url"], presigned["fields"], JPEG)
    assert response.status_code == 403, response.text
    assert s3_error_code(response) == "AccessDenied"
    assert "Policy expired" in response.text
    assert stored_keys(strict_bucket) == []


def test_each_policy_is_for_its_own_upload_only(alice_client: Any, strict_bucket: S3Bucket) -> None:
    """A second upload's file cannot be sent under the first upload's policy to its key."""
    first, second = presign(alice_client), presign(alice_client)
    fields = {**first["fields"], "key": second["fields"]["key"]}
    response = post_form(first["url"], fields, JPEG)
    assert response.status_code == 403, response.text
    assert stored_keys(strict_bucket) == []
