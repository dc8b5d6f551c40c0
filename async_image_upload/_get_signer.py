"""SigV4 query-string GET URLs signed in microseconds instead of botocore's few hundred.

botocore's ``generate_presigned_url`` resolves the endpoint through its rule
engine, serialises and signs a request object and fires its event hooks on
every call (about 430 us here); a gallery page with 250 image URLs spent about
100 ms of CPU on that alone. Only the URL's origin, the bucket's path prefix
and the signing region come out of that machinery, and none of them changes
between keys of one bucket, so botocore computes them once (see
``async_image_upload.s3``) and this module does the per-key part exactly as
botocore writes it. Everything that depends only on the signing time, the
expiry and the credentials (the scope, the derived signing key, the query
string) is built once per signing window and reused; a URL then costs one
SHA-256 of its canonical request and one HMAC.
``tests/app/test_get_signer.py`` checks URLs byte for byte against botocore's
for the same instant, with and without a session token.

The algorithm is AWS's "Authenticating Requests: Using Query Parameters
(AWS Signature Version 4)", with S3's rules: the path is not normalised and
the payload is ``UNSIGNED-PAYLOAD``.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from time import monotonic
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

ALGORITHM = "AWS4-HMAC-SHA256"
_TIMESTAMP_FORMAT = "%Y%m%dT%H%M%SZ"  # botocore.auth.SIGV4_TIMESTAMP
_QUERY_SAFE = "-._~"  # botocore.utils.SAFE_CHARS
_PATH_SAFE = "/~"  # how botocore's serializer quotes a greedy {Key+}
_DEFAULT_PORTS = {"http": 80, "https": 443}


def signing_host(url: str) -> str:
    """The ``host`` header botocore signs for ``url``: lowercase, no default port."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:  # an IPv6 literal keeps its brackets
        host = f"[{host}]"
    if parts.port is not None and parts.port != _DEFAULT_PORTS.get(parts.scheme):
        host = f"{host}:{parts.port}"
    return host


class _Window:
    """What every URL signed at one instant, for one expiry and credentials, shares."""

    __slots__ = ("credentials", "expires_in", "mac", "query", "signed_at", "sts_head", "tail")

    def __init__(
        self,
        credentials: Any,
        signed_at: int,
        expires_in: int,
        region: str,
        service: str,
        host: str,
    ) -> None:
        self.credentials = credentials
        self.signed_at = signed_at
        self.expires_in = expires_in
        timestamp = time.strftime(_TIMESTAMP_FORMAT, time.gmtime(signed_at))
        date = timestamp[:8]
        scope = f"{date}/{region}/{service}/aws4_request"
        params = [
            ("X-Amz-Algorithm", ALGORITHM),
            ("X-Amz-Credential", f"{credentials.access_key}/{scope}"),
            ("X-Amz-Date", timestamp),
            ("X-Amz-Expires", str(expires_in)),
            ("X-Amz-SignedHeaders", "host"),
        ]
        if credentials.token is not None:
            params.append(("X-Amz-Security-Token", credentials.token))
        encoded = [
            (quote(name, safe=_QUERY_SAFE), quote(value, safe=_QUERY_SAFE))
            for name, value in params
        ]
        # botocore's order in the URL; sorted (already encoded) in the canonical request.
        self.query = "&".join(f"{name}={value}" for name, value in encoded)
        canonical_query = "&".join(f"{name}={value}" for name, value in sorted(encoded))
        self.tail = f"\n{canonical_query}\nhost:{host}\n\nhost\nUNSIGNED-PAYLOAD"
        self.sts_head = f"{ALGORITHM}\n{timestamp}\n{scope}\n"
        key = f"AWS4{credentials.secret_key}".encode()
        for part in (date, region, service, "aws4_request"):
            key = hmac.new(key, part.encode(), hashlib.sha256).digest()
        self.mac = hmac.new(key, digestmod=hashlib.sha256)


class GetUrlSigner:
    """Signs GET URLs for the keys of one bucket at one origin and signing scope.

    ``url_prefix`` is everything before the quoted key in botocore's URL
    (``https://bucket.s3.amazonaws.com/`` or ``http://host:9000/bucket/``).
    ``credentials`` is botocore's credentials object. Its frozen snapshot is
    taken again at most ``credentials_recheck`` seconds after the last one
    (asking refreshable role credentials costs ~15 us, as much as a whole
    URL), so credentials botocore refreshed are used within that time, and
    the window's cached key with them. botocore refreshes at least 10 minutes
    before credentials expire, so a snapshot a second old is never expired.
    """

    def __init__(
        self,
        credentials: Any,
        *,
        url_prefix: str,
        region: str,
        service: str = "s3",
        credentials_recheck: float = 1.0,
    ):
        self.credentials = credentials
        self.credentials_recheck = credentials_recheck
        self._snapshot: Any = None
        self._snapshot_until = 0.0
        self.url_prefix = url_prefix
        self.region = region
        self.service = service
        parts = urlsplit(url_prefix)
        self._origin = f"{parts.scheme}://{parts.netloc}"
        self._path_prefix = parts.path
        self._host = signing_host(url_prefix)
        self._window: _Window | None = None

    @classmethod
    def from_botocore_url(cls, credentials: Any, url: str, key: str) -> GetUrlSigner:
        """The signer for the bucket of ``url``, a URL botocore presigned for ``key``."""
        parts = urlsplit(url)
        quoted_key = quote(key, safe=_PATH_SAFE)
        if not parts.path.endswith(quoted_key):
            raise ValueError(f"{url!r} is not a presigned URL for {key!r}.")
        # Credential scope: access-key/date/region/service/aws4_request.
        credential = parse_qs(parts.query)["X-Amz-Credential"][0]
        _access_key, _date, region, service, _terminator = credential.rsplit("/", 4)
        prefix = f"{parts.scheme}://{parts.netloc}{parts.path[: -len(quoted_key)]}"
        return cls(credentials, url_prefix=prefix, region=region, service=service)

    def sign(self, key: str, *, signed_at: int, expires_in: int) -> str:
        """A URL for ``key`` signed at ``signed_at`` (epoch seconds), valid ``expires_in`` s."""
        now = monotonic()
        credentials = self._snapshot
        if credentials is None or now >= self._snapshot_until:
            credentials = self._snapshot = self.credentials.get_frozen_credentials()
            self._snapshot_until = now + self.credentials_recheck
        window = self._window
        if (
            window is None
            or window.signed_at != signed_at
            or window.expires_in != expires_in
            or window.credentials != credentials
        ):
            window = self._window = _Window(
                credentials, signed_at, expires_in, self.region, self.service, self._host
            )
        path = self._path_prefix + quote(key, safe=_PATH_SAFE)
        digest = hashlib.sha256(f"GET\n{path}{window.tail}".encode()).hexdigest()
        mac = window.mac.copy()
        mac.update(f"{window.sts_head}{digest}".encode())
        return f"{self._origin}{path}?{window.query}&X-Amz-Signature={mac.hexdigest()}"
