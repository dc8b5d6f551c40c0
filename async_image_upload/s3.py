"""Everything Django says to S3: presigned POSTs and variant URLs.

No bytes pass through here; nothing but signing happens. Clients (and the
POST and GET signers' URLs and scopes, learnt from one botocore signature
each) are cached because creating one costs tens of milliseconds, and dropped
when settings change. Presigned variant URLs are signed per window
(``URL_SIGNING_WINDOW``) so browsers can cache them.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from urllib.parse import quote

import boto3
from botocore.config import Config
from botocore.exceptions import NoCredentialsError
from django.core.signals import setting_changed

from async_image_upload._cloudfront_signer import CloudFrontUrlSigner
from async_image_upload._get_signer import GetUrlSigner
from async_image_upload._post_policy import PostPolicySigner
from async_image_upload.conf import affects_upload_settings, upload_settings

_lock = threading.Lock()


@dataclass(frozen=True)
class PresignedPost:
    """What a client needs to upload one file: POST ``fields`` + the file to ``url``."""

    url: str
    fields: dict[str, str]
    key: str
    expires_in: int


def _new_client(session: boto3.session.Session, endpoint_url: str | None, region: str) -> Any:
    return session.client(
        "s3",
        region_name=region,
        endpoint_url=endpoint_url,
        config=Config(signature_version="s3v4", s3={"addressing_style": "auto"}),
    )


@lru_cache(maxsize=4)
def _client(endpoint_url: str | None, region: str) -> Any:
    with _lock:
        return _new_client(boto3.session.Session(), endpoint_url, region)


def _credentials_and_client(endpoint_url: str | None, region: str) -> tuple[Any, Any]:
    """A new session's credentials and a client on it, for a signer's one probe."""
    session = boto3.session.Session()
    credentials = session.get_credentials()
    if credentials is None:
        raise NoCredentialsError()
    return credentials, _new_client(session, endpoint_url, region)


@lru_cache(maxsize=8)
def _post_signer(endpoint_url: str | None, region: str, bucket: str) -> PostPolicySigner:
    """botocore's URL and signing scope for ``bucket``, learnt once from one real signature."""
    with _lock:
        credentials, client = _credentials_and_client(endpoint_url, region)
        probe = client.generate_presigned_post(Bucket=bucket, Key="probe")
    # Credential scope: access-key/date/region/service/aws4_request.
    _access_key, _date, signing_region, service, _terminator = probe["fields"][
        "x-amz-credential"
    ].rsplit("/", 4)
    return PostPolicySigner(
        credentials=credentials,
        bucket=bucket,
        url=probe["url"],
        region=signing_region,
        service=service,
    )


@lru_cache(maxsize=8)
def _get_signer(endpoint_url: str | None, region: str, bucket: str) -> GetUrlSigner:
    """botocore's URL prefix and signing scope for GETs from ``bucket``, learnt once."""
    with _lock:
        credentials, client = _credentials_and_client(endpoint_url, region)
        probe = client.generate_presigned_url(
            "get_object", Params={"Bucket": bucket, "Key": "probe"}, ExpiresIn=60
        )
    return GetUrlSigner.from_botocore_url(credentials, probe, "probe")


@lru_cache(maxsize=2)
def _cloudfront_signer(key_id: str, private_key: str | bytes) -> CloudFrontUrlSigner:
    """One signer (and URL memo) per key pair; the key is parsed once."""
    return CloudFrontUrlSigner(key_id, private_key)


def cdn_domain() -> str | None:
    """The host of ``custom_domain`` URLs: CUSTOM_DOMAIN, else the deployed CDN_DOMAIN."""
    return upload_settings.CUSTOM_DOMAIN or upload_settings.CDN_DOMAIN


def signing_client() -> Any:
    """The client whose signatures clients will present (public endpoint if set)."""
    endpoint = upload_settings.PUBLIC_ENDPOINT_URL or upload_settings.ENDPOINT_URL
    return _client(endpoint, upload_settings.REGION)


def api_client() -> Any:
    """The client Django itself uses to talk to S3 (reconcile, checks)."""
    return _client(upload_settings.ENDPOINT_URL, upload_settings.REGION)


def reset_clients() -> None:
    _client.cache_clear()
    _post_signer.cache_clear()
    _get_signer.cache_clear()
    _cloudfront_signer.cache_clear()


def _reset_on_change(*, setting: str, **kwargs: Any) -> None:
    if affects_upload_settings(setting):
        reset_clients()


setting_changed.connect(_reset_on_change)


def presigned_post(
    *,
    key: str,
    content_type: str,
    max_bytes: int,
    metadata: dict[str, str],
    expires_in: int | None = None,
) -> PresignedPost:
    """A SigV4 POST policy for exactly one key, type and size range.

    Every field the client sends is pinned by an exact-match condition, so the
    client can change neither the key, the Content-Type nor the metadata the
    Lambda trusts. No ACL field: buckets use BucketOwnerEnforced.
    """
    expiry = int(expires_in or upload_settings.PRESIGN_EXPIRY)
    fields: dict[str, str] = {"Content-Type": content_type}
    fields.update({f"x-amz-meta-{name}": value for name, value in metadata.items()})
    conditions: list[Any] = [
        ["content-length-range", 1, int(max_bytes)],
        *({name: value} for name, value in fields.items()),
    ]
    endpoint = upload_settings.PUBLIC_ENDPOINT_URL or upload_settings.ENDPOINT_URL
    signer = _post_signer(endpoint, upload_settings.REGION, upload_settings.BUCKET)
    signed = signer.sign(key=key, fields=fields, conditions=conditions, expires_in=expiry)
    return PresignedPost(url=signer.url, fields=signed, key=key, expires_in=expiry)


def object_url(key: str) -> str:
    """A URL a browser can load for an output key, built as ``URL_MODE`` says.

    In ``"presigned"`` mode, and in ``"custom_domain"`` mode with CloudFront
    signing (``CLOUDFRONT_KEY_ID``), the URL is the same for the whole signing
    window (see :func:`signing_window`).
    """
    mode = upload_settings.URL_MODE
    if mode == "custom_domain":
        protocol = upload_settings.URL_PROTOCOL
        url = f"{protocol}://{cdn_domain()}/{quote(key)}"
        key_id = upload_settings.CLOUDFRONT_KEY_ID
        if not key_id or upload_settings.CLOUDFRONT_SIGNING == "cookies":
            return url
        signer = _cloudfront_signer(key_id, upload_settings.CLOUDFRONT_PRIVATE_KEY)
        signed_at, expires_in = signing_window(int(time.time()))
        return signer.sign(url, expires_at=signed_at + expires_in)
    if mode == "storage":
        from django.core.files.storage import storages

        return storages[upload_settings.STORAGE].url(key)
    endpoint = upload_settings.PUBLIC_ENDPOINT_URL or upload_settings.ENDPOINT_URL
    signer = _get_signer(endpoint, upload_settings.REGION, upload_settings.BUCKET)
    signed_at, expires_in = signing_window(int(time.time()))
    return signer.sign(key, signed_at=signed_at, expires_in=expires_in)


def cloudfront_cookies() -> dict[str, str]:
    """The signed cookies that let a browser load every image through the CDN this window.

    For ``CLOUDFRONT_SIGNING = "cookies"``: a custom policy on
    ``<protocol>://<domain>/<IMAGE_PREFIX>*``, expiring like a signed URL of this
    window, signed once per window and process. Set each as a cookie the CDN's
    host receives (``Domain`` must cover ``CUSTOM_DOMAIN``; a browser never sends
    your site's cookies to ``*.cloudfront.net``), ``Secure`` and ``HttpOnly``.
    """
    key_id = upload_settings.CLOUDFRONT_KEY_ID
    if not key_id:
        raise ValueError("cloudfront_cookies() needs CLOUDFRONT_KEY_ID and CLOUDFRONT_PRIVATE_KEY.")
    signer = _cloudfront_signer(key_id, upload_settings.CLOUDFRONT_PRIVATE_KEY)
    signed_at, expires_in = signing_window(int(time.time()))
    resource = f"{upload_settings.URL_PROTOCOL}://{cdn_domain()}/{upload_settings.IMAGE_PREFIX}*"
    return signer.cookies(resource, expires_at=signed_at + expires_in)


def signing_window(now: int) -> tuple[int, int]:
    """The signing time and expiry of every presigned GET URL handed out at ``now``.

    Windows of ``URL_SIGNING_WINDOW`` seconds start at multiples of it since the
    epoch, so every server signs a key to the same URL for the whole window
    (browsers and proxies can cache it). The URL is signed at the window's start
    and expires ``URL_SIGNING_WINDOW + URL_EXPIRY`` later: handed out at any
    moment of the window, it stays valid at least ``URL_EXPIRY`` after that.
    """
    window = int(upload_settings.URL_SIGNING_WINDOW)
    return now - now % window, window + int(upload_settings.URL_EXPIRY)
