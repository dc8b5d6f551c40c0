"""HMAC-SHA256 callback signatures exactly as docs/contract.md defines them.

Stdlib only, so the Lambda zip stays small. ``verify`` is the receiver's half;
the Lambda never calls it, but tests (and the Django side's contract test) use
it to prove both halves agree.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Iterable

TIMESTAMP_HEADER = "X-Image-Upload-Timestamp"
SIGNATURE_HEADER = "X-Image-Upload-Signature"
SCHEME = "v1"


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """Return ``v1=<hex>`` over ``f"{timestamp}." + body`` keyed by the UTF-8 secret."""
    message = f"{timestamp}.".encode() + body
    digest = hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()
    return f"{SCHEME}={digest}"


def signed_headers(secret: str, body: bytes, now: float | None = None) -> dict[str, str]:
    """Headers for one callback request, timestamped now."""
    timestamp = int(time.time() if now is None else now)
    return {
        "Content-Type": "application/json",
        TIMESTAMP_HEADER: str(timestamp),
        SIGNATURE_HEADER: sign(secret, timestamp, body),
    }


def verify(
    secrets: Iterable[str],
    body: bytes,
    timestamp_header: str | None,
    signature_header: str | None,
    max_age: int = 300,
    now: float | None = None,
) -> bool:
    """True if any ``v1=`` signature matches any secret and the timestamp is fresh.

    Rejects timestamps older than ``max_age`` seconds or in the future (beyond
    the same tolerance) so a captured request cannot be replayed later.
    """
    if not timestamp_header or not signature_header:
        return False
    try:
        timestamp = int(timestamp_header)
    except ValueError:
        return False
    current = time.time() if now is None else now
    if abs(current - timestamp) > max_age:
        return False
    offered = [
        part.strip()[len(SCHEME) + 1 :]
        for part in signature_header.split(",")
        if part.strip().startswith(f"{SCHEME}=")
    ]
    matched = False
    for secret in secrets:
        expected = sign(secret, timestamp, body)[len(SCHEME) + 1 :]
        for candidate in offered:
            # No early exit: every comparison runs so timing reveals nothing.
            matched |= hmac.compare_digest(expected, candidate)
    return matched
