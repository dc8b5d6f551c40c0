"""The presign endpoint, against moto's S3 server over HTTP.

moto does not enforce POST policies, so the policy's conditions and expiry are
asserted by decoding the policy the endpoint signed; the strict-emulator tier
(issue 6) checks enforcement.
"""

from __future__ import annotations

import base64
import io
import json
from datetime import datetime, timedelta

import pytest
import requests
from django.utils import timezone
from PIL import Image
from rest_framework import serializers
from rest_framework.test import APIRequestFactory, force_authenticate

from async_image_upload import ImageUpload
from async_image_upload.api.serializers import PresignRequestSerializer
from async_image_upload.api.views import UploadCreateView

pytestmark = pytest.mark.django_db

URL = "/uploads/"


def jpeg_bytes(width: int = 640, height: int = 480) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (200, 30, 60)).save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


def presign(client, **overrides):
    body = {
        "field": "testapp.Photo.image",
        "filename": "IMG_0001.jpg",
        "content_type": "image/jpeg",
        "size": 50_000,
        **overrides,
    }
    return client.post(URL, body, format="json")


def decoded_policy(fields: dict[str, str]) -> dict:
    return json.loads(base64.b64decode(fields["policy"]))


def test_presigned_post_uploads_a_real_image_to_the_exact_key(alice_client, upload_bucket) -> None:
    photo = jpeg_bytes()
    response = presign(alice_client, size=len(photo))
    assert response.status_code == 201, response.content
    data = response.json()
    upload = ImageUpload.objects.get(pk=data["id"])
    assert data["status"] == "pending"
    assert data["status_url"].endswith(f"/uploads/{upload.pk}/")

    sent = requests.post(
        data["url"], data=data["fields"], files={"file": ("ignored.jpg", photo)}, timeout=10
    )
    assert sent.status_code in (200, 201, 204), sent.text

    stored = upload_bucket.client.head_object(Bucket=upload_bucket.name, Key=f"temp/{upload.pk}")
    assert stored["ContentLength"] == len(photo)
    assert stored["ContentType"] == "image/jpeg"
    assert stored["Metadata"] == {
        "upload-id": str(upload.pk),
        "variants": "50x50,100x100,400x400,original",
        "blur-radius": "20",
    }
    body = upload_bucket.client.get_object(Bucket=upload_bucket.name, Key=f"temp/{upload.pk}")
    assert body["Body"].read() == photo


def test_policy_pins_key_type_size_metadata_and_expiry(alice_client, upload_bucket) -> None:
    before = timezone.now()
    data = presign(alice_client, size=50_000).json()
    fields = data["fields"]
    policy = decoded_policy(fields)
    conditions = policy["conditions"]

    assert fields["key"] == f"temp/{data['id']}"
    assert {"key": f"temp/{data['id']}"} in conditions
    assert {"bucket": upload_bucket.name} in conditions
    assert ["content-length-range", 1, 20 * 1024 * 1024] in conditions
    assert {"Content-Type": "image/jpeg"} in conditions
    assert {"x-amz-meta-upload-id": data["id"]} in conditions
    assert {"x-amz-meta-variants": "50x50,100x100,400x400,original"} in conditions
    assert {"x-amz-meta-blur-radius": "20"} in conditions
    # SigV4, and nothing that would set an ACL or let the client pick the key.
    assert fields["x-amz-algorithm"] == "AWS4-HMAC-SHA256"
    assert not any("acl" in str(condition).lower() for condition in conditions)
    assert not any("starts-with" in str(condition) for condition in conditions)
    expiration = datetime.fromisoformat(policy["expiration"].replace("Z", "+00:00"))
    assert before + timedelta(minutes=14) < expiration <= before + timedelta(minutes=16)
    assert datetime.fromisoformat(data["expires_at"].replace("Z", "+00:00")) == pytest.approx(
        expiration, abs=timedelta(seconds=2)
    )


def test_field_options_override_settings(alice_client, upload_bucket) -> None:
    data = presign(alice_client, field="testapp.Avatar.image", size=1000).json()
    conditions = decoded_policy(data["fields"])["conditions"]
    assert ["content-length-range", 1, 2 * 1024 * 1024] in conditions
    assert {"x-amz-meta-variants": "64x64,256x256"} in conditions
    assert {"x-amz-meta-blur-radius": "0"} in conditions
    assert data["max_bytes"] == 2 * 1024 * 1024


def test_client_filename_never_reaches_the_key(alice_client, upload_bucket) -> None:
    data = presign(alice_client, filename="../../etc/passwd ${filename}.jpg").json()
    assert data["fields"]["key"] == f"temp/{data['id']}"
    upload = ImageUpload.objects.get(pk=data["id"])
    assert upload.original_filename == "passwd ${filename}.jpg"


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"content_type": "image/svg+xml"}, "content_type", "is not accepted"),
        ({"content_type": "image/gif", "field": "testapp.Avatar.image"}, "content_type", "Allowed"),
        ({"size": 0}, "size", "greater than or equal to 1"),
        ({"size": -5}, "size", "greater than or equal to 1"),
        ({"size": 20 * 1024 * 1024 + 1}, "size", "limit"),
        ({"size": 10**30}, "size", ""),
        ({"size": "big"}, "size", "valid integer"),
        ({"field": "testapp.Photo.title"}, "field", "Unknown field"),
        ({"field": "nope"}, "field", "Unknown field"),
        ({"field": "auth.User.password"}, "field", "Unknown field"),
        ({"content_type": None}, "content_type", "null"),
    ],
)
def test_bad_input_gets_a_400_with_a_message(
    alice_client, upload_bucket, overrides, field, message
):
    response = presign(alice_client, **overrides)
    assert response.status_code == 400, response.content
    assert message in " ".join(response.json()[field])
    assert ImageUpload.objects.count() == 0


@pytest.mark.parametrize("body", [b"{not json", b"[1, 2]", b'"text"', b""])
def test_junk_bodies_get_a_400(alice_client, upload_bucket, body) -> None:
    response = alice_client.generic("POST", URL, body, content_type="application/json")
    assert response.status_code == 400
    assert response.json()


def test_anonymous_is_refused(api_client, upload_bucket) -> None:
    response = presign(api_client)
    assert response.status_code in (401, 403)
    assert "credentials" in response.json()["detail"]


def test_anonymous_allowed_when_permissions_say_so(api_client, upload_bucket, settings) -> None:
    settings.ASYNC_IMAGE_UPLOAD = {
        **settings.ASYNC_IMAGE_UPLOAD,
        "PERMISSION_CLASSES": ["rest_framework.permissions.AllowAny"],
    }
    data = presign(api_client).json()
    assert ImageUpload.objects.get(pk=data["id"]).owner is None
    assert api_client.get(f"/uploads/{data['id']}/").status_code == 200


def test_pending_cap_per_user(alice_client, upload_bucket, settings) -> None:
    settings.ASYNC_IMAGE_UPLOAD = {**settings.ASYNC_IMAGE_UPLOAD, "MAX_PENDING_PER_USER": 2}
    assert presign(alice_client).status_code == 201
    assert presign(alice_client).status_code == 201
    refused = presign(alice_client)
    assert refused.status_code == 429
    assert "pending" in refused.json()["detail"]
    # An expired pending upload no longer counts.
    ImageUpload.objects.filter(owner__username="alice").update(expires_at=timezone.now())
    assert presign(alice_client).status_code == 201


def test_throttled(alice_client, upload_bucket, settings) -> None:
    settings.ASYNC_IMAGE_UPLOAD = {**settings.ASYNC_IMAGE_UPLOAD, "THROTTLE_RATE": "3/minute"}
    codes = [presign(alice_client).status_code for _ in range(4)]
    assert codes == [201, 201, 201, 429]


def test_content_type_is_normalised(alice_client, upload_bucket) -> None:
    data = presign(alice_client, content_type="IMAGE/JPEG").json()
    assert data["fields"]["Content-Type"] == "image/jpeg"


class NoMondayFiles(PresignRequestSerializer):
    """A project's own rule on top of the app's, as docs/api.md shows."""

    def validate(self, attrs):
        attrs = super().validate(attrs)
        if attrs["filename"].startswith("monday") and self.context["request"].user.is_authenticated:
            raise serializers.ValidationError("Not on Mondays.")
        return attrs


class ProjectUploadCreateView(UploadCreateView):
    serializer_class = NoMondayFiles


def test_subclass_serializer_rules_run_after_the_apps(user, upload_bucket) -> None:
    view = ProjectUploadCreateView.as_view()
    factory = APIRequestFactory()

    def post(**overrides):
        body = {"filename": "IMG_1.jpg", "content_type": "image/jpeg", "size": 50_000}
        request = factory.post(URL, {**body, **overrides}, format="json")
        force_authenticate(request, user=user)
        return view(request)

    refused = post(filename="monday.jpg")
    assert refused.status_code == 400
    assert refused.data == {"non_field_errors": ["Not on Mondays."]}
    # The app's own rules still run, with their messages.
    too_big = post(size=10**12)
    assert too_big.status_code == 400 and "size" in too_big.data
    assert not ImageUpload.objects.exists()

    accepted = post()
    assert accepted.status_code == 201, accepted.data
    upload = ImageUpload.objects.get(pk=accepted.data["id"])
    assert (upload.original_filename, upload.owner) == ("IMG_1.jpg", user)
