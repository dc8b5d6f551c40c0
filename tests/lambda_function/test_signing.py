"""Callback signatures: the exact bytes the contract specifies, and the receiver's checks."""

from __future__ import annotations

import hashlib
import hmac

from lambda_function.signing import SIGNATURE_HEADER, TIMESTAMP_HEADER, sign, signed_headers, verify

BODY = b'{"version":1,"upload_id":"4f1c0d2e-0000-4000-8000-000000000000","status":"ready"}'


def test_signature_is_hmac_sha256_over_timestamp_dot_body() -> None:
    expected = hmac.new(b"s3cret", b"1764070000." + BODY, hashlib.sha256).hexdigest()
    assert sign("s3cret", 1764070000, BODY) == f"v1={expected}"


def test_headers_round_trip_through_verify() -> None:
    headers = signed_headers("s3cret", BODY, now=1764070000)
    assert headers[TIMESTAMP_HEADER] == "1764070000"
    assert headers["Content-Type"] == "application/json"
    assert verify(
        ["s3cret"], BODY, headers[TIMESTAMP_HEADER], headers[SIGNATURE_HEADER], now=1764070010
    )


def test_rotation_several_secrets_and_several_signatures() -> None:
    header = ", ".join([sign("old", 1764070000, BODY), sign("new", 1764070000, BODY)])
    assert verify(["new"], BODY, "1764070000", header, now=1764070000)
    assert verify(["other", "old"], BODY, "1764070000", header, now=1764070000)
    assert not verify(["unrelated"], BODY, "1764070000", header, now=1764070000)


def test_tampering_staleness_and_garbage_are_rejected() -> None:
    good = sign("s3cret", 1764070000, BODY)
    assert not verify(["s3cret"], BODY + b" ", "1764070000", good, now=1764070000)
    assert not verify(["s3cret"], BODY, "1764070001", good, now=1764070000)
    assert not verify(["s3cret"], BODY, "1764070000", good, max_age=300, now=1764070301)
    assert not verify(["s3cret"], BODY, "1764070000", good, max_age=300, now=1764069699)
    assert not verify(["s3cret"], BODY, "soon", good, now=1764070000)
    assert not verify(["s3cret"], BODY, None, good)
    assert not verify(["s3cret"], BODY, "1764070000", good.replace("v1=", "v2="), now=1764070000)
