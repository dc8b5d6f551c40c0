"""signing.py: every malformed header is a SignatureError, never another exception (issue 12.2)."""

from __future__ import annotations

import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from async_image_upload.signing import SignatureError, compute_signature, sign, verify

SECRET = "callback-secret"
BODY = b'{"version": 1}'
NOW = 1_764_070_000


def _verify(timestamp: str | None, signature: str | None) -> object:
    return verify(
        body=BODY,
        timestamp=timestamp,
        signature=signature,
        secrets=[SECRET],
        max_age=300,
        now=NOW,
    )


@pytest.mark.parametrize(
    "candidate",
    [
        "\xe9",  # the red team's Latin-1 byte, as WSGI decodes it
        "é",
        "é" * 64,
        "\U0001f600" * 64,
        "\x00" * 64,
        "\ud800",  # a lone surrogate
        "0" * 63 + "é",
        "f" * 65,
        "F" * 64,
        "",
    ],
)
def test_a_malformed_candidate_is_a_mismatch(candidate: str) -> None:
    with pytest.raises(SignatureError, match=r"Signature mismatch\."):
        _verify(str(NOW), f"v1={candidate}")


def test_a_good_candidate_beside_a_malformed_one_still_verifies() -> None:
    good = compute_signature(SECRET, NOW, BODY)
    assert _verify(str(NOW), f"v1=\xe9,v1={good}").secret_index == 0


def test_signed_headers_verify() -> None:
    headers = sign(SECRET, BODY, timestamp=NOW)
    assert _verify(*headers.values()).timestamp == NOW


@settings(max_examples=300, deadline=None)
@given(timestamp=st.one_of(st.none(), st.text()), signature=st.one_of(st.none(), st.text()))
def test_any_header_text_is_verified_or_refused_with_a_reason(
    timestamp: str | None, signature: str | None
) -> None:
    try:
        _verify(timestamp, signature)
    except SignatureError as exc:
        assert exc.reason
    else:  # only a real signature passes
        assert signature is not None
        assert f"v1={compute_signature(SECRET, timestamp or '', BODY)}" in signature


#: Header values shaped like the real thing, so the fuzz reaches the comparison.
SIGNATURES = st.one_of(
    st.text(),
    st.lists(st.text(), min_size=1, max_size=3).map(lambda ps: ",".join(f"v1={p}" for p in ps)),
    st.text(alphabet="0123456789abcdefé\x00", min_size=60, max_size=68).map(lambda h: f"v1={h}"),
)


@settings(max_examples=200, deadline=None)
@given(signature=SIGNATURES)
def test_any_signature_with_a_fresh_timestamp_is_refused(signature: str) -> None:
    with pytest.raises(SignatureError):
        verify(
            body=BODY,
            timestamp=str(int(time.time())),
            signature=signature,
            secrets=[SECRET],
            max_age=300,
        )
