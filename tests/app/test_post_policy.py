"""Our POST-policy signer against botocore's, byte for byte, at the same instant.

The presign endpoint signs with ``async_image_upload._post_policy`` instead of
calling botocore's ``generate_presigned_post`` per upload. Both are made to
read the same frozen clock (botocore through ``get_current_datetime``, ours
through ``now``), and every form field — the base64 policy and the signature
included — must come out identical. Nothing here talks to S3; upload tests
(moto) and the strict tier (LocalStack) post real files with these forms.
"""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from typing import Any

import boto3
import botocore.auth
import botocore.signers
import pytest
from botocore.config import Config
from botocore.credentials import Credentials

from async_image_upload import s3
from async_image_upload._post_policy import PostPolicySigner

FIELDS = {
    "Content-Type": "image/jpeg",
    "x-amz-meta-upload-id": "4f1c0d2e-9b7a-4c55-8e2f-3a6b1d9c0e71",
    "x-amz-meta-variants": "50x50,100x100,400x400,original",
    "x-amz-meta-blur-radius": "20",
}
CONDITIONS = [["content-length-range", 1, 20_971_520], *({k: v} for k, v in FIELDS.items())]
KEY = "temp/4f1c0d2e-9b7a-4c55-8e2f-3a6b1d9c0e71"


def freeze_botocore(monkeypatch: pytest.MonkeyPatch, instant: datetime) -> None:
    def frozen(remove_tzinfo: bool = True) -> datetime:
        return instant.replace(tzinfo=None) if remove_tzinfo else instant

    monkeypatch.setattr(botocore.signers, "get_current_datetime", frozen)
    monkeypatch.setattr(botocore.auth, "get_current_datetime", frozen)


def botocore_post(session: boto3.session.Session, *, region: str, endpoint: str | None) -> Any:
    client = session.client(
        "s3",
        region_name=region,
        endpoint_url=endpoint,
        config=Config(signature_version="s3v4", s3={"addressing_style": "auto"}),
    )
    return client.generate_presigned_post(
        Bucket="photos-bucket", Key=KEY, Fields=FIELDS, Conditions=CONDITIONS, ExpiresIn=900
    )


@pytest.mark.parametrize("token", [None, "FwoGZXIvYXdzEBYaDO+session/token=="])
@pytest.mark.parametrize(
    ("region", "endpoint"),
    [
        ("us-east-1", None),
        ("eu-central-1", None),
        ("ap-southeast-2", None),
        ("us-east-1", "http://127.0.0.1:9000"),
    ],
)
@pytest.mark.parametrize(
    "instant",
    [
        datetime(2026, 11, 25, 13, 30, 5, tzinfo=UTC),
        # Either side of midnight: the cached signing key must follow the date.
        datetime(2026, 12, 31, 23, 59, 59, tzinfo=UTC),
        datetime(2027, 1, 1, 0, 0, 1, tzinfo=UTC),
    ],
)
def test_same_fields_as_botocore(monkeypatch, token, region, endpoint, instant) -> None:
    session = boto3.session.Session(
        aws_access_key_id="AKIAEXAMPLE0000000001",
        aws_secret_access_key="wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        aws_session_token=token,
    )
    freeze_botocore(monkeypatch, instant)
    expected = botocore_post(session, region=region, endpoint=endpoint)

    signer = PostPolicySigner(
        credentials=session.get_credentials(),
        bucket="photos-bucket",
        url=expected["url"],
        region=region,
    )
    fields = signer.sign(key=KEY, fields=FIELDS, conditions=CONDITIONS, expires_in=900, now=instant)

    assert fields == expected["fields"]
    assert list(fields) == list(expected["fields"])  # same form order, too
    policy = json.loads(base64.b64decode(fields["policy"]))
    assert {"key": KEY} in policy["conditions"]
    assert ("x-amz-security-token" in fields) is (token is not None)


def test_refreshed_credentials_are_used() -> None:
    """Role credentials rotate; each form is signed with the snapshot of the moment."""

    class Rotating:
        def __init__(self) -> None:
            self.calls = 0

        def get_frozen_credentials(self) -> Any:
            self.calls += 1
            return Credentials(
                f"AKIAROTATED{self.calls:09d}", f"secret-{self.calls}"
            ).get_frozen_credentials()

    signer = PostPolicySigner(Rotating(), "b", "https://b.s3.amazonaws.com/", "us-east-1")
    first = signer.sign(key="temp/a", fields={}, conditions=[], expires_in=60)
    second = signer.sign(key="temp/a", fields={}, conditions=[], expires_in=60)
    assert first["x-amz-credential"].startswith("AKIAROTATED000000001/")
    assert second["x-amz-credential"].startswith("AKIAROTATED000000002/")
    assert first["x-amz-signature"] != second["x-amz-signature"]


def test_filename_placeholder_keys_are_refused() -> None:
    signer = PostPolicySigner(
        Credentials("a", "b"), "b", "https://b.s3.amazonaws.com/", "us-east-1"
    )
    with pytest.raises(ValueError, match="exact keys"):
        signer.sign(key="temp/${filename}", fields={}, conditions=[], expires_in=60)


@pytest.mark.parametrize(
    "overrides",
    [
        {},
        {"REGION": "eu-west-3"},
        {"ENDPOINT_URL": "http://127.0.0.1:9000"},
        {"ENDPOINT_URL": "http://s3.internal:9000", "PUBLIC_ENDPOINT_URL": "https://s3.example"},
    ],
)
def test_presigned_post_matches_the_settings_client(monkeypatch, settings, overrides) -> None:
    """The app's own path — URL and scope learnt from botocore once — still equals botocore."""
    settings.ASYNC_IMAGE_UPLOAD = {**settings.ASYNC_IMAGE_UPLOAD, **overrides}
    instant = datetime(2026, 11, 25, 13, 30, 5, tzinfo=UTC)
    monkeypatch.setattr(
        "async_image_upload._post_policy.datetime",
        type("FrozenDatetime", (datetime,), {"now": classmethod(lambda cls, tz=None: instant)}),
    )
    freeze_botocore(monkeypatch, instant)
    s3.reset_clients()
    try:
        ours = s3.presigned_post(
            key=KEY,
            content_type="image/jpeg",
            max_bytes=20_971_520,
            metadata={
                "upload-id": "4f1c0d2e-9b7a-4c55-8e2f-3a6b1d9c0e71",
                "variants": "50x50,100x100,400x400,original",
                "blur-radius": "20",
            },
            expires_in=900,
        )
        from async_image_upload.conf import upload_settings

        expected = s3.signing_client().generate_presigned_post(
            Bucket=upload_settings.BUCKET,
            Key=KEY,
            Fields=FIELDS,
            Conditions=CONDITIONS,
            ExpiresIn=900,
        )
    finally:
        s3.reset_clients()
    assert ours.url == expected["url"]
    assert ours.fields == expected["fields"]
    if "PUBLIC_ENDPOINT_URL" in overrides:
        assert ours.url.startswith(overrides["PUBLIC_ENDPOINT_URL"])
