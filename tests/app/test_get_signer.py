"""Our GET URL signer against botocore's ``generate_presigned_url``, byte for byte.

Variant URLs are signed by ``async_image_upload._get_signer`` instead of
botocore per URL. Both read the same frozen clock (botocore through
``get_current_datetime``, ours through ``signed_at``), and the whole URL —
origin, quoted path, query order and signature — must come out identical.
Nothing here talks to S3; e2e and strict-tier tests load real objects with
these URLs.
"""

from __future__ import annotations

import types
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

import boto3
import pytest
from botocore.config import Config
from botocore.credentials import Credentials

from async_image_upload import s3
from async_image_upload._get_signer import GetUrlSigner, signing_host

from .test_post_policy import freeze_botocore

KEYS = [
    "image/4f1c0d2e-9b7a-4c55-8e2f-3a6b1d9c0e71/400x400.jpg",
    "image/4f1c0d2e/50x50_blur.webp",
    "image/with space/and+plus/tilde~/x.jpg",
    "image/ünïcødé/猫.png",
    "image/reserved !\"#$%&'()*,:;<=>?@[\\]^`{|}/x",
    "image//double//slash/./dot/../x",
]


def botocore_client(session: boto3.session.Session, region: str, endpoint: str | None) -> Any:
    return session.client(
        "s3",
        region_name=region,
        endpoint_url=endpoint,
        config=Config(signature_version="s3v4", s3={"addressing_style": "auto"}),
    )


@pytest.mark.parametrize("token", [None, "FwoGZXIvYXdzEBYaDO+session/token=="])
@pytest.mark.parametrize(
    ("region", "endpoint", "bucket"),
    [
        ("us-east-1", None, "photos-bucket"),  # virtual-hosted, global endpoint
        ("eu-central-1", None, "photos-bucket"),
        ("ap-southeast-2", None, "photos.with.dots"),  # path style on AWS
        ("us-east-1", "http://127.0.0.1:9000", "photos-bucket"),  # the local stack (moto)
        ("us-east-1", "http://localhost:4566", "photos-bucket"),  # LocalStack
        ("eu-west-3", "https://S3.Example.com:443", "photos-bucket"),  # default port, case
        ("us-east-1", "http://[::1]:9000", "photos-bucket"),
    ],
)
@pytest.mark.parametrize(
    "instant",
    [
        datetime(2026, 11, 25, 13, 0, 0, tzinfo=UTC),
        # Either side of midnight: the cached signing key must follow the date.
        datetime(2026, 12, 31, 23, 59, 59, tzinfo=UTC),
        datetime(2027, 1, 1, 0, 0, 1, tzinfo=UTC),
    ],
)
def test_same_urls_as_botocore(monkeypatch, token, region, endpoint, bucket, instant) -> None:
    session = boto3.session.Session(
        aws_access_key_id="AKIAEXAMPLE0000000001",
        aws_secret_access_key="wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        aws_session_token=token,
    )
    client = botocore_client(session, region, endpoint)
    freeze_botocore(monkeypatch, instant)
    probe = client.generate_presigned_url(
        "get_object", Params={"Bucket": bucket, "Key": "probe"}, ExpiresIn=60
    )
    signer = GetUrlSigner.from_botocore_url(session.get_credentials(), probe, "probe")
    for expires_in in (3600, 7200 + 5):
        for key in KEYS:
            expected = client.generate_presigned_url(
                "get_object", Params={"Bucket": bucket, "Key": key}, ExpiresIn=expires_in
            )
            ours = signer.sign(key, signed_at=int(instant.timestamp()), expires_in=expires_in)
            assert ours == expected, key
            assert ("X-Amz-Security-Token=" in ours) is (token is not None)


def test_signing_host_is_what_botocore_signs() -> None:
    assert signing_host("https://Bucket.S3.amazonaws.com/") == "bucket.s3.amazonaws.com"
    assert signing_host("https://s3.example:443/b/") == "s3.example"
    assert signing_host("http://s3.example:80/b/") == "s3.example"
    assert signing_host("http://127.0.0.1:9000/b/") == "127.0.0.1:9000"
    assert signing_host("http://[::1]:9000/b/") == "[::1]:9000"


def test_a_url_for_another_key_is_refused() -> None:
    with pytest.raises(ValueError, match="not a presigned URL"):
        GetUrlSigner.from_botocore_url(
            Credentials("a", "b"), "https://b.s3.amazonaws.com/other?X-Amz-Credential=x", "probe"
        )


def test_refreshed_credentials_are_used(monkeypatch) -> None:
    """Role credentials rotate; a snapshot botocore replaced is used at most a second more."""

    class Rotating:
        def __init__(self) -> None:
            self.generation = 1

        def get_frozen_credentials(self) -> Any:
            return Credentials(
                f"AKIAROTATED{self.generation:09d}",
                f"secret-{self.generation}",
                f"token-{self.generation}",
            ).get_frozen_credentials()

    clock = [1000.0]
    monkeypatch.setattr("async_image_upload._get_signer.monotonic", lambda: clock[0])
    credentials = Rotating()
    signer = GetUrlSigner(credentials, url_prefix="https://b.s3.amazonaws.com/", region="us-east-1")
    first = signer.sign("image/a.jpg", signed_at=1_764_072_000, expires_in=3600)
    assert signer.sign("image/a.jpg", signed_at=1_764_072_000, expires_in=3600) == first
    credentials.generation = 2
    clock[0] += 0.5  # the snapshot is reused for up to a second...
    assert signer.sign("image/a.jpg", signed_at=1_764_072_000, expires_in=3600) == first
    clock[0] += 0.5  # ...and no longer
    second = signer.sign("image/a.jpg", signed_at=1_764_072_000, expires_in=3600)
    assert "AKIAROTATED000000001" in first and "token-1" in first
    assert "AKIAROTATED000000002" in second and "token-2" in second
    assert first.rsplit("=", 1)[1] != second.rsplit("=", 1)[1]


@pytest.mark.parametrize(
    "overrides",
    [
        {},
        {"REGION": "eu-west-3"},
        {"ENDPOINT_URL": "http://127.0.0.1:9000"},
        {"ENDPOINT_URL": "http://s3.internal:9000", "PUBLIC_ENDPOINT_URL": "https://s3.example"},
        {"URL_SIGNING_WINDOW": 900, "URL_EXPIRY": 300},
    ],
)
def test_object_url_is_botocores_url_signed_at_the_windows_start(
    monkeypatch, settings, overrides
) -> None:
    """The app's own path — prefix and scope learnt from botocore once — equals botocore
    signing at the window's start for the window plus URL_EXPIRY."""
    settings.ASYNC_IMAGE_UPLOAD = {**settings.ASYNC_IMAGE_UPLOAD, **overrides}
    window = overrides.get("URL_SIGNING_WINDOW", 3600)
    expiry = overrides.get("URL_EXPIRY", 3600)
    window_start = datetime(2026, 11, 25, 13, 0, 0, tzinfo=UTC)
    now = window_start.timestamp() + window - 1.5  # late in the window
    monkeypatch.setattr(s3, "time", types.SimpleNamespace(time=lambda: now))
    freeze_botocore(monkeypatch, window_start)
    s3.reset_clients()
    try:
        from async_image_upload.conf import upload_settings

        ours = s3.object_url(KEYS[0])
        expected = s3.signing_client().generate_presigned_url(
            "get_object",
            Params={"Bucket": upload_settings.BUCKET, "Key": KEYS[0]},
            ExpiresIn=window + expiry,
        )
    finally:
        s3.reset_clients()
    assert ours == expected
    if "PUBLIC_ENDPOINT_URL" in overrides:
        assert ours.startswith(overrides["PUBLIC_ENDPOINT_URL"])


def url_at(monkeypatch: pytest.MonkeyPatch, now: float, key: str = KEYS[0]) -> str:
    monkeypatch.setattr(s3, "time", types.SimpleNamespace(time=lambda: now))
    return s3.object_url(key)


def signed_window(url: str) -> tuple[float, float]:
    """When a URL's signature starts and stops being valid (epoch seconds)."""
    query = parse_qs(urlsplit(url).query)
    signed = datetime.strptime(query["X-Amz-Date"][0], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    start = signed.timestamp()
    return start, start + int(query["X-Amz-Expires"][0])


def test_a_url_is_the_same_for_the_whole_window(monkeypatch, settings) -> None:
    settings.ASYNC_IMAGE_UPLOAD = {**settings.ASYNC_IMAGE_UPLOAD, "URL_SIGNING_WINDOW": 3600}
    start = datetime(2026, 11, 25, 13, 0, 0, tzinfo=UTC).timestamp()
    first = url_at(monkeypatch, start)
    assert url_at(monkeypatch, start + 1) == first
    assert url_at(monkeypatch, start + 3599.999) == first
    assert url_at(monkeypatch, start + 3600) != first  # the next window
    assert url_at(monkeypatch, start, KEYS[1]) != first


@pytest.mark.parametrize(("window", "expiry"), [(3600, 3600), (900, 60), (86_400, 600)])
def test_a_url_stays_valid_url_expiry_after_it_is_handed_out(
    monkeypatch, settings, window, expiry
) -> None:
    settings.ASYNC_IMAGE_UPLOAD = {
        **settings.ASYNC_IMAGE_UPLOAD,
        "URL_SIGNING_WINDOW": window,
        "URL_EXPIRY": expiry,
    }
    start = datetime(2026, 11, 25, 0, 0, 0, tzinfo=UTC).timestamp()
    for now in (start, start + window / 2, start + window - 0.001):
        valid_from, valid_until = signed_window(url_at(monkeypatch, now))
        assert valid_from == start <= now
        assert valid_until >= now + expiry
        assert valid_until == start + window + expiry  # and no longer than that
