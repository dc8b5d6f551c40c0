"""CloudFront signed URLs and the CDN host: what CloudFront itself would check.

No emulator has CloudFront (moto's CloudFormation skips it, LocalStack's
community edition has none), so a URL is checked the way CloudFront documents
it: rebuild the canned policy ``{"Statement":[{"Resource":URL,"Condition":
{"DateLessThan":{"AWS:EpochTime":EXPIRES}}}]}``, undo CloudFront's base64
substitutions, and verify the RSA-SHA1 signature with the public key.
"""

from __future__ import annotations

import base64
import json
import types
from urllib.parse import parse_qs, urlsplit

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

from async_image_upload import s3
from async_image_upload._cloudfront_signer import CloudFrontKeyError, CloudFrontUrlSigner
from async_image_upload.checks import check_settings

KEY_ID = "K2JCJMDEHXQW5F"
DOMAIN = "d111111abcdef8.cloudfront.net"
KEY = "image/4f1c0d2e-0000-4000-8000-000000000000/400x400.jpg"


@pytest.fixture(scope="module")
def key_pair() -> tuple[str, rsa.RSAPublicKey]:
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    return pem, private.public_key()


def cloudfront_accepts(url: str, public_key: rsa.RSAPublicKey, now: int) -> bool:
    """CloudFront's check of a canned-policy URL: signature over the policy, then expiry."""
    parts = urlsplit(url)
    query = {name: values[0] for name, values in parse_qs(parts.query).items()}
    assert set(query) == {"Expires", "Signature", "Key-Pair-Id"}
    resource = f"{parts.scheme}://{parts.netloc}{parts.path}"
    condition = '{"DateLessThan":{"AWS:EpochTime":' + query["Expires"] + "}}"
    policy = '{"Statement":[{"Resource":"' + resource + '","Condition":' + condition + "}]}"
    signature = base64.b64decode(
        query["Signature"].replace("-", "+").replace("_", "=").replace("~", "/")
    )
    try:
        public_key.verify(signature, policy.encode(), padding.PKCS1v15(), hashes.SHA1())  # noqa: S303
    except InvalidSignature:
        return False
    return query["Key-Pair-Id"] == KEY_ID and now < int(query["Expires"])


@pytest.fixture
def cdn_settings(settings, key_pair):
    settings.ASYNC_IMAGE_UPLOAD = {
        "BUCKET": "photos",
        "CALLBACK_URL": "https://example.com/uploads/callback/",
        "URL_MODE": "custom_domain",
        "CDN_DOMAIN": DOMAIN,
        "CLOUDFRONT_KEY_ID": KEY_ID,
        "CLOUDFRONT_PRIVATE_KEY": key_pair[0],
    }
    return settings


def url_at(monkeypatch: pytest.MonkeyPatch, now: float, key: str = KEY) -> str:
    monkeypatch.setattr(s3, "time", types.SimpleNamespace(time=lambda: now))
    return s3.object_url(key)


def test_a_signed_url_verifies_with_the_public_key(cdn_settings, key_pair, monkeypatch) -> None:
    now = 1_764_070_000
    url = url_at(monkeypatch, now)
    assert url.startswith(f"https://{DOMAIN}/{KEY}?")
    assert cloudfront_accepts(url, key_pair[1], now)
    tampered = url.replace("400x400", "original")
    assert not cloudfront_accepts(tampered, key_pair[1], now)
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048).public_key()
    assert not cloudfront_accepts(url, other, now)


def test_a_signed_url_is_the_same_for_the_whole_window_and_valid_after_it(
    cdn_settings, key_pair, monkeypatch
) -> None:
    start = 1_764_068_400  # a multiple of the default one-hour window
    first = url_at(monkeypatch, start)
    assert url_at(monkeypatch, start + 1) == first
    assert url_at(monkeypatch, start + 3599) == first
    assert url_at(monkeypatch, start + 3600) != first
    expires = int(parse_qs(urlsplit(first).query)["Expires"][0])
    assert expires == start + 3600 + 3600  # window + URL_EXPIRY, as presigned S3 URLs
    assert cloudfront_accepts(first, key_pair[1], start + 3599 + 3600 - 1)
    assert not cloudfront_accepts(first, key_pair[1], expires)


def test_without_a_key_id_the_cdn_url_is_plain(settings) -> None:
    settings.ASYNC_IMAGE_UPLOAD = {"BUCKET": "photos", "URL_MODE": "custom_domain",
                                   "CDN_DOMAIN": DOMAIN}  # fmt: skip
    assert s3.object_url(KEY) == f"https://{DOMAIN}/{KEY}"
    settings.ASYNC_IMAGE_UPLOAD = {
        **settings.ASYNC_IMAGE_UPLOAD,
        "CUSTOM_DOMAIN": "img.example.com",
    }
    assert s3.object_url(KEY) == f"https://img.example.com/{KEY}"  # your own name wins


def test_signatures_are_memoised_per_url_and_expiry(key_pair) -> None:
    signer = CloudFrontUrlSigner(KEY_ID, key_pair[0])
    calls = []
    original = signer._signer.generate_presigned_url
    signer._signer.generate_presigned_url = lambda *a, **k: calls.append(a) or original(*a, **k)
    url = f"https://{DOMAIN}/{KEY}"
    assert signer.sign(url, expires_at=2_000_000_000) == signer.sign(url, expires_at=2_000_000_000)
    signer.sign(url, expires_at=2_000_003_600)
    assert len(calls) == 2


def test_an_unusable_private_key_is_refused_with_a_reason() -> None:
    with pytest.raises(CloudFrontKeyError, match="not an unencrypted PEM private key"):
        CloudFrontUrlSigner(KEY_ID, "/etc/keys/cdn-private.pem")
    ec_pem = (
        ec.generate_private_key(ec.SECP256R1())
        .private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        .decode()
    )
    with pytest.raises(CloudFrontKeyError, match="must be an RSA key"):
        CloudFrontUrlSigner(KEY_ID, ec_pem)


BASE = {"BUCKET": "b", "CALLBACK_URL": "https://example.com/api/uploads/callback/"}


def messages(settings, **overrides) -> dict[str, str]:
    settings.ASYNC_IMAGE_UPLOAD = {**BASE, **overrides}
    return {message.id: message.msg for message in check_settings()}


def test_checks_for_cloudfront_signing(settings, key_pair) -> None:
    cdn = {"URL_MODE": "custom_domain", "CDN_DOMAIN": DOMAIN}
    assert messages(settings, **cdn) == {}
    assert messages(settings, **cdn, CLOUDFRONT_KEY_ID=KEY_ID,
                    CLOUDFRONT_PRIVATE_KEY=key_pair[0]) == {}  # fmt: skip
    half = messages(settings, **cdn, CLOUDFRONT_KEY_ID=KEY_ID)
    assert half == {
        "async_image_upload.E013": "CLOUDFRONT_KEY_ID is set but CLOUDFRONT_PRIVATE_KEY is not: "
        "CloudFront signed URLs need both."
    }
    other_half = messages(settings, **cdn, CLOUDFRONT_PRIVATE_KEY=key_pair[0])
    assert list(other_half) == ["async_image_upload.E013"]
    unreadable = messages(settings, **cdn, CLOUDFRONT_KEY_ID=KEY_ID,
                          CLOUDFRONT_PRIVATE_KEY="secrets/cdn.pem")  # fmt: skip
    assert list(unreadable) == ["async_image_upload.E014"]
    assert "not an unencrypted PEM private key" in unreadable["async_image_upload.E014"]
    unused = messages(settings, CLOUDFRONT_KEY_ID=KEY_ID, CLOUDFRONT_PRIVATE_KEY=key_pair[0])
    assert list(unused) == ["async_image_upload.W006"]
    no_host = messages(settings, URL_MODE="custom_domain")
    assert "CDN_DOMAIN" in no_host["async_image_upload.E008"]


def cookie_policy_accepted(cookies: dict[str, str], public_key: rsa.RSAPublicKey) -> dict:
    """CloudFront's check of signed cookies: the custom policy's signature; returns the policy."""

    def unb64(value: str) -> bytes:
        return base64.b64decode(value.replace("-", "+").replace("_", "=").replace("~", "/"))

    assert cookies["CloudFront-Key-Pair-Id"] == KEY_ID
    policy = unb64(cookies["CloudFront-Policy"])
    public_key.verify(unb64(cookies["CloudFront-Signature"]), policy, padding.PKCS1v15(),
                      hashes.SHA1())  # fmt: skip  # noqa: S303
    return json.loads(policy)


def test_signed_cookies_cover_the_image_prefix_for_the_window(
    cdn_settings, key_pair, monkeypatch
) -> None:
    cdn_settings.ASYNC_IMAGE_UPLOAD = {
        **cdn_settings.ASYNC_IMAGE_UPLOAD,
        "CLOUDFRONT_SIGNING": "cookies",
        "CUSTOM_DOMAIN": "img.example.com",
    }
    start = 1_764_068_400
    monkeypatch.setattr(s3, "time", types.SimpleNamespace(time=lambda: start + 10))
    cookies = s3.cloudfront_cookies()
    (statement,) = cookie_policy_accepted(cookies, key_pair[1])["Statement"]
    assert statement == {
        "Resource": "https://img.example.com/image/*",
        "Condition": {"DateLessThan": {"AWS:EpochTime": start + 7200}},
    }
    monkeypatch.setattr(s3, "time", types.SimpleNamespace(time=lambda: start + 3000))
    assert s3.cloudfront_cookies() == cookies  # one signature for the window
    # With cookies, image URLs are plain (the cookies carry the signature).
    assert s3.object_url(KEY) == f"https://img.example.com/{KEY}"


def test_checks_for_signed_cookies(settings, key_pair) -> None:
    cdn = {"URL_MODE": "custom_domain", "CDN_DOMAIN": DOMAIN, "CLOUDFRONT_KEY_ID": KEY_ID,
           "CLOUDFRONT_PRIVATE_KEY": key_pair[0]}  # fmt: skip
    assert list(messages(settings, **cdn, CLOUDFRONT_SIGNING="cookies")) == [
        "async_image_upload.W007"
    ]
    mine = messages(settings, **cdn, CLOUDFRONT_SIGNING="cookies", CUSTOM_DOMAIN="img.example.com")
    assert mine == {}
    assert list(messages(settings, **cdn, CLOUDFRONT_SIGNING="both")) == ["async_image_upload.E015"]
