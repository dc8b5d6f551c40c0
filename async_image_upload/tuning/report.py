"""Aggregate a corpus of measurements into a table per memory size and architecture.

The table is the mean cost and duration per photo over the corpus (so a folder
that looks like the user's uploads weighs sizes the way their traffic does), and
the choices made from it: the cheapest size, the fastest, and the recommended one.
"""

from __future__ import annotations

import datetime
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from async_image_upload.tuning.measure import Failure
from async_image_upload.tuning.model import (
    DEFAULT_ASSUMPTIONS,
    MEMORY_SIZES,
    Assumptions,
    Measurement,
    estimate,
    required_memory_mb,
)
from async_image_upload.tuning.prices import ARCHITECTURES, DEFAULT_PRICES, Prices

Strategy = Literal["balanced", "cost", "speed"]
STRATEGIES: tuple[Strategy, ...] = ("balanced", "cost", "speed")
FORMAT_VERSION = 1


@dataclass(frozen=True)
class Row:
    """One memory size on one architecture, averaged over the corpus."""

    memory_mb: int
    architecture: str
    mean_ms: float
    max_ms: int
    lambda_cost: float
    s3_cost: float
    fits: bool

    @property
    def total_cost(self) -> float:
        return self.lambda_cost + self.s3_cost

    @property
    def s3_exceeds_lambda(self) -> bool:
        return self.s3_cost > self.lambda_cost

    def as_dict(self) -> dict[str, Any]:
        return {
            **asdict(self),
            "total_cost": self.total_cost,
            "cost_per_million": self.total_cost * 1_000_000,
            "s3_exceeds_lambda": self.s3_exceeds_lambda,
        }


@dataclass(frozen=True)
class Report:
    measurements: tuple[Measurement, ...]
    failures: tuple[Failure, ...]
    rows: tuple[Row, ...]
    prices: Prices
    assumptions: Assumptions
    strategy: Strategy = "balanced"
    generated: str = field(default_factory=lambda: datetime.date.today().isoformat())

    @property
    def required_memory_mb(self) -> float:
        """The largest photo's need: below this the function runs out of memory on it."""
        peak = max((m.peak_rss_mb for m in self.measurements), default=0.0)
        return required_memory_mb(peak, self.assumptions)

    @property
    def safe_memory_mb(self) -> float:
        """The smallest size a recommendation may use: the need plus a safety margin."""
        return self.required_memory_mb * self.assumptions.memory_headroom

    def rows_for(self, architecture: str) -> list[Row]:
        return [row for row in self.rows if row.architecture == architecture]

    def _safe_rows(self, architecture: str) -> list[Row]:
        return [r for r in self.rows_for(architecture) if r.memory_mb >= self.safe_memory_mb]

    def cheapest(self, architecture: str) -> Row | None:
        return min(
            self._safe_rows(architecture), key=lambda r: (r.total_cost, r.mean_ms), default=None
        )

    def fastest(self, architecture: str) -> Row | None:
        return min(
            self._safe_rows(architecture), key=lambda r: (r.mean_ms, r.total_cost), default=None
        )

    def recommended(self, architecture: str) -> Row | None:
        """The size ``strategy`` picks among those with memory to spare.

        ``balanced`` minimises (Lambda cost / cheapest Lambda cost) + (duration /
        fastest duration): each term is 1 at its own optimum, so a size that is 10 %
        dearer and 40 % faster wins. S3 charges are left out because they are the
        same at every memory size and would drown the difference memory makes.
        """
        rows = self._safe_rows(architecture)
        if not rows or self.strategy == "cost":
            return self.cheapest(architecture)
        if self.strategy == "speed":
            return self.fastest(architecture)
        low_cost = min(r.lambda_cost for r in rows)
        low_ms = min(r.mean_ms for r in rows)
        return min(rows, key=lambda r: (r.lambda_cost / low_cost + r.mean_ms / low_ms, r.memory_mb))

    def as_dict(self) -> dict[str, Any]:
        """The JSON form: everything measured and assumed, every row, and the choices."""

        def memory(row: Row | None) -> int | None:
            return row.memory_mb if row else None

        architectures = sorted({row.architecture for row in self.rows})
        return {
            "version": FORMAT_VERSION,
            "generated": self.generated,
            "strategy": self.strategy,
            "recommended": {a: memory(self.recommended(a)) for a in architectures},
            "cheapest": {a: memory(self.cheapest(a)) for a in architectures},
            "fastest": {a: memory(self.fastest(a)) for a in architectures},
            "required_memory_mb": round(self.required_memory_mb, 1),
            "safe_memory_mb": round(self.safe_memory_mb, 1),
            "prices": self.prices.as_dict(),
            "assumptions": self.assumptions.as_dict(),
            "measurements": [m.as_dict() for m in self.measurements],
            "failures": [asdict(f) for f in self.failures],
            "rows": [row.as_dict() for row in self.rows],
        }


def build_report(
    measurements: Sequence[Measurement],
    failures: Iterable[Failure] = (),
    *,
    memory_sizes: Sequence[int] = MEMORY_SIZES,
    architectures: Sequence[str] = ARCHITECTURES,
    prices: Prices = DEFAULT_PRICES,
    assumptions: Assumptions = DEFAULT_ASSUMPTIONS,
    strategy: Strategy = "balanced",
) -> Report:
    """Estimate every photo on every configuration and average per configuration."""
    if strategy not in STRATEGIES:
        raise ValueError(f"strategy must be one of {STRATEGIES}")
    rows = []
    for architecture in architectures:
        for memory_mb in sorted(memory_sizes):
            estimates = [
                estimate(m, memory_mb, architecture, prices, assumptions) for m in measurements
            ]
            if not estimates:
                continue
            rows.append(
                Row(
                    memory_mb=memory_mb,
                    architecture=architecture,
                    mean_ms=statistics.fmean(e.billed_ms for e in estimates),
                    max_ms=max(e.billed_ms for e in estimates),
                    lambda_cost=statistics.fmean(e.lambda_cost for e in estimates),
                    s3_cost=statistics.fmean(e.s3_cost for e in estimates),
                    fits=all(e.fits for e in estimates),
                )
            )
    return Report(
        measurements=tuple(measurements),
        failures=tuple(failures),
        rows=tuple(rows),
        prices=prices,
        assumptions=assumptions,
        strategy=strategy,
    )
