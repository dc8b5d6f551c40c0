"""Prices the cost model uses: AWS's published us-east-1 list prices, overridable.

Prices change and differ per region, so they are data, not constants in the
formulas: pass another :class:`Prices` (``--prices FILE.json`` on the command, or
the ``TUNING_PRICES`` dict in ``ASYNC_IMAGE_UPLOAD``) and every number follows.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import Any

ARCHITECTURES = ("arm64", "x86_64")


@dataclass(frozen=True)
class Prices:
    """USD prices for one region. ``as_of`` is the day they were read off the pricing pages."""

    region: str = "us-east-1"
    as_of: str = "2026-11-25"
    #: Lambda duration, first tier (up to 6 billion GB-s a month on x86, 7.5 billion on arm).
    lambda_gb_second_arm64: float = 0.0000133334
    lambda_gb_second_x86_64: float = 0.0000166667
    #: Lambda requests, both architectures: $0.20 per million.
    lambda_request: float = 0.20 / 1_000_000
    #: S3 Standard: PUT, COPY, POST, LIST at $0.005 per 1,000.
    s3_put: float = 0.005 / 1000
    #: S3 Standard: GET, SELECT and all other requests (HEAD included) at $0.0004 per 1,000.
    s3_get: float = 0.0004 / 1000
    source: str = (
        "aws.amazon.com/lambda/pricing and aws.amazon.com/s3/pricing, us-east-1, "
        "first tier, no free tier"
    )

    def gb_second(self, architecture: str) -> float:
        """Price of one GB-second of duration on ``architecture``."""
        if architecture not in ARCHITECTURES:
            raise ValueError(f"architecture must be one of {ARCHITECTURES}, not {architecture!r}")
        return getattr(self, f"lambda_gb_second_{architecture}")

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


DEFAULT_PRICES = Prices()


def prices_from(overrides: Mapping[str, Any] | None) -> Prices:
    """The defaults with some fields replaced; an unknown name is an error, not a silent no-op."""
    if not overrides:
        return DEFAULT_PRICES
    known = {f.name for f in fields(Prices)}
    unknown = sorted(set(overrides) - known)
    if unknown:
        raise ValueError(f"unknown price field(s) {unknown}; known: {sorted(known)}")
    numbers = {
        name: value
        for name, value in overrides.items()
        if name not in ("region", "source", "as_of")
    }
    for name, value in numbers.items():
        if not isinstance(value, int | float) or value < 0:
            raise ValueError(f"price {name} must be a non-negative number, not {value!r}")
    return replace(DEFAULT_PRICES, **overrides)


def prices_from_file(path: Path) -> Prices:
    """Read overrides from a JSON object such as ``{"region": "eu-west-1", "s3_put": 5.4e-06}``."""
    data = json.loads(path.read_text())
    if not isinstance(data, dict):
        raise ValueError(f"{path} must hold a JSON object of price fields")
    return prices_from(data)
