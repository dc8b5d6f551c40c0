"""HMAC signatures for the Lambda's callback (see ``docs/contract.md``).

Standard library only: the bundled Lambda carries its own copy of the signing
half, and ``tests/test_contract.py`` signs on each side and verifies on the
other so the two cannot drift apart.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import time
from collections.abc import Iterable
from dataclasses import dataclass

TIMESTAMP_HEADER = "X-Image-Upload-Timestamp"
SIGNATURE_HEADER = "X-Image-Upload-Signature"
SCHEME = "v1"
#: A v1 signature: lower-case hex SHA-256. Anything else is compared with nothing.
_HEX_DIGEST = re.compile(r"[0-9a-f]{64}")


class SignatureError(Exception):
    """The callback is not authentic; ``reason`` is safe to show the caller."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def compute_signature(secret: str, timestamp: str | int, body: bytes) -> str:
    message = f"{timestamp}.".encode() + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def sign(secret: str, body: bytes, timestamp: int | None = None) -> dict[str, str]:
    """Headers that authenticate ``body``."""
    ts = str(int(time.time()) if timestamp is None else int(timestamp))
    return {
        TIMESTAMP_HEADER: ts,
        SIGNATURE_HEADER: f"{SCHEME}={compute_signature(secret, ts, body)}",
    }


@dataclass(frozen=True)
class VerifiedCallback:
    timestamp: int
    secret_index: int  # which secret matched: >0 means a rotated-out secret is still in use


def verify(
    *,
    body: bytes,
    timestamp: str | None,
    signature: str | None,
    secrets: Iterable[str],
    max_age: int,
    now: float | None = None,
) -> VerifiedCallback:
    """Check a callback's headers; raise :class:`SignatureError` with the reason."""
    if not timestamp or not signature:
        raise SignatureError("Missing signature headers.")
    if not timestamp.isascii() or not timestamp.isdigit() or len(timestamp) > 12:
        raise SignatureError("Malformed timestamp.")
    current = time.time() if now is None else now
    ts = int(timestamp)
    if current - ts > max_age:
        raise SignatureError("Stale signature.")
    if ts - current > max_age:
        raise SignatureError("Timestamp is in the future.")
    candidates = [
        part.strip()[len(SCHEME) + 1 :]
        for part in signature.split(",")
        if part.strip().startswith(f"{SCHEME}=")
    ]
    if not candidates:
        raise SignatureError("No v1 signature.")
    # compare_digest raises TypeError for a non-ASCII str: only well-formed digests
    # reach it, and a malformed one is a mismatch like any other wrong signature.
    candidates = [c for c in candidates if c.isascii() and _HEX_DIGEST.fullmatch(c)]
    secret_list = [s for s in secrets if s]
    if not secret_list:
        raise SignatureError("No callback secret is configured.")
    matched: int | None = None
    # Compare every pair, so the time taken does not reveal which one matched.
    for index, secret in enumerate(secret_list):
        expected = compute_signature(secret, timestamp, body)
        for candidate in candidates:
            if hmac.compare_digest(expected, candidate) and matched is None:
                matched = index
    if matched is None:
        raise SignatureError("Signature mismatch.")
    return VerifiedCallback(timestamp=ts, secret_index=matched)
