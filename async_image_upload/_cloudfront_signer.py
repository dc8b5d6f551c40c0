"""CloudFront signed URLs (canned policy) that stay the same for a signing window.

For ``deploy_thumbnail_stack --cdn-public-key``: the distribution serves only
requests signed with the private key of its key group. botocore's
``CloudFrontSigner`` writes the canned policy and CloudFront's URL-safe base64;
``cryptography`` does the RSA-SHA1 signature CloudFront specifies for it
(PKCS#1 v1.5, deterministic). Like presigned S3 URLs
(:func:`async_image_upload.s3.signing_window`), the expiry is the window's start
plus ``URL_SIGNING_WINDOW + URL_EXPIRY``, so a key's URL is identical for everyone
during a window and browsers and CloudFront can cache it.

An RSA-2048 signature costs about a millisecond, far more than a SigV4 HMAC, so
URLs are memoised per (URL, expiry): within a window a gallery page signs each
image once per process, then reuses the string.

Needs the ``cdn`` extra (``cryptography``); the system check E014 says so.
"""

from __future__ import annotations

import base64
import datetime
import threading
from collections import OrderedDict
from typing import Any

#: Signed URLs kept per process; a window's URLs for a few thousand images fit.
CACHE_SIZE = 8192


class CloudFrontKeyError(ValueError):
    """The configured private key cannot sign (not PEM, not RSA, or cryptography missing)."""


def load_private_key(pem: str | bytes) -> Any:
    """The RSA private key in ``pem``, or :class:`CloudFrontKeyError` saying what is wrong."""
    try:
        from cryptography.hazmat.primitives.asymmetric import rsa
        from cryptography.hazmat.primitives.serialization import load_pem_private_key
    except ImportError:
        raise CloudFrontKeyError(
            "CloudFront signing needs the 'cryptography' package: "
            "pip install 'django-async-images[cdn]'."
        ) from None
    data = pem.encode() if isinstance(pem, str) else bytes(pem)
    try:
        key = load_pem_private_key(data, password=None)
    except (ValueError, TypeError) as exc:
        raise CloudFrontKeyError(
            f"CLOUDFRONT_PRIVATE_KEY is not an unencrypted PEM private key ({exc})."
        ) from None
    if not isinstance(key, rsa.RSAPrivateKey):
        raise CloudFrontKeyError("CLOUDFRONT_PRIVATE_KEY must be an RSA key (CloudFront's).")
    return key


class CloudFrontUrlSigner:
    """Signs URLs of one distribution with one key pair, memoising each URL per expiry."""

    def __init__(self, key_id: str, private_key_pem: str | bytes) -> None:
        from botocore.signers import CloudFrontSigner
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import padding

        key = load_private_key(private_key_pem)

        def rsa_signer(message: bytes) -> bytes:
            # CloudFront's canned policy: SHA-1 with RSA, PKCS#1 v1.5 (its documented format).
            return key.sign(message, padding.PKCS1v15(), hashes.SHA1())  # noqa: S303

        self.key_id = key_id
        self._rsa_signer = rsa_signer
        self._signer = CloudFrontSigner(key_id, rsa_signer)
        self._cache: OrderedDict[tuple[str, int], str] = OrderedDict()
        self._lock = threading.Lock()

    def cookies(self, resource: str, *, expires_at: int) -> dict[str, str]:
        """CloudFront's three signed cookies for a custom policy on ``resource`` (may end in ``*``).

        One RSA signature covers every image under the pattern, so a private
        gallery signs once per window, not once per URL.
        """
        cache_key = (f"cookies:{resource}", expires_at)
        with self._lock:
            cached = self._cache.get(cache_key)
        if cached is not None:
            policy, signature = cached.split(" ", 1)
        else:
            when = datetime.datetime.fromtimestamp(expires_at, tz=datetime.UTC)
            raw = self._signer.build_policy(resource, when).encode()
            policy, signature = _url_b64(raw), _url_b64(self._rsa_signer(raw))
            with self._lock:
                self._cache[cache_key] = f"{policy} {signature}"
        return {
            "CloudFront-Policy": policy,
            "CloudFront-Signature": signature,
            "CloudFront-Key-Pair-Id": self.key_id,
        }

    def sign(self, url: str, *, expires_at: int) -> str:
        """``url`` with ``Expires``, ``Signature`` and ``Key-Pair-Id`` for a canned policy."""
        cache_key = (url, expires_at)
        with self._lock:
            signed = self._cache.get(cache_key)
            if signed is not None:
                self._cache.move_to_end(cache_key)
                return signed
        when = datetime.datetime.fromtimestamp(expires_at, tz=datetime.UTC)
        signed = self._signer.generate_presigned_url(url, date_less_than=when)
        with self._lock:
            self._cache[cache_key] = signed
            while len(self._cache) > CACHE_SIZE:
                self._cache.popitem(last=False)
        return signed


def _url_b64(data: bytes) -> str:
    """CloudFront's URL- and cookie-safe base64: ``+=/`` become ``-_~``."""
    encoded = base64.b64encode(data).decode()
    return encoded.replace("+", "-").replace("=", "_").replace("/", "~")
