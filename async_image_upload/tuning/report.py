"""Aggregate a corpus of measurements into a table per memory size and architecture.

The table is the mean cost and duration per photo over the corpus (so a folder
that looks like the user's uploads weighs sizes the way their traffic does), and
the choices made from it: the cheapest size, the fastest, and the recommended one.

Each row keeps measured CPU apart from assumed waits, in milliseconds and in
dollars, with the S3 request charges beside Lambda's; :func:`sensitivity` shows
how far the assumptions move the total. No size below what the settings' worst
allowed input needs (``_memory_table.worst_case``, the Lambda's own memory
estimate) is recommended, whatever the measured photos needed.
"""

from __future__ import annotations

import datetime
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Literal

from async_image_upload._memory_table import WorstCase
from async_image_upload.tuning.measure import Failure
from async_image_upload.tuning.model import (
    DEFAULT_ASSUMPTIONS,
    MEMORY_SIZES,
    Assumptions,
    Measurement,
    S3Requests,
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
    #: Mean milliseconds of measured CPU work (scaled to this size's CPU share).
    compute_ms: float = 0.0
    #: Mean milliseconds of assumed waiting on S3 and the callback.
    wait_ms: float = 0.0
    #: The Lambda charge split: duration spent computing, duration spent waiting,
    #: and the request charge plus amortised INIT.
    cpu_cost: float = 0.0
    wait_cost: float = 0.0
    fixed_cost: float = 0.0
    #: False below the memory the settings' worst allowed input needs.
    holds_allowed_inputs: bool = True

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
    #: The most memory-hungry input the settings allow, or None when unknown.
    settings_worst_case: WorstCase | None = None

    @property
    def required_memory_mb(self) -> float:
        """The largest photo's need: below this the function runs out of memory on it."""
        peak = max((m.peak_rss_mb for m in self.measurements), default=0.0)
        return required_memory_mb(peak, self.assumptions)

    @property
    def measured_safe_memory_mb(self) -> float:
        """The measured photos' worst need plus a safety margin."""
        return self.required_memory_mb * self.assumptions.memory_headroom

    @property
    def safe_memory_mb(self) -> float:
        """The smallest size a recommendation may use.

        The measured worst case with its margin, and never less than what the
        settings' worst allowed input needs by the Lambda's own estimate: a smaller
        size would refuse such an upload with ``too_much_memory``.
        """
        floor = self.settings_worst_case.needed_mb if self.settings_worst_case else 0
        return max(self.measured_safe_memory_mb, float(floor))

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
            "settings_worst_case": (
                asdict(self.settings_worst_case) if self.settings_worst_case else None
            ),
            "s3_requests_per_upload": asdict(self._s3_requests()),
            "sensitivity": [
                asdict(row)
                for architecture in architectures
                for row in sensitivity(self, architecture)
            ],
            "prices": self.prices.as_dict(),
            "assumptions": self.assumptions.as_dict(),
            "measurements": [m.as_dict() for m in self.measurements],
            "failures": [asdict(f) for f in self.failures],
            "rows": [row.as_dict() for row in self.rows],
        }

    def _s3_requests(self) -> S3Requests:
        """Requests per upload at the corpus's typical output count."""
        outputs = max((m.outputs for m in self.measurements), default=0)
        return S3Requests.per_upload(outputs)


@dataclass(frozen=True)
class Sensitivity:
    """Mean cost per million uploads at one size when the assumptions move."""

    architecture: str
    memory_mb: int
    wait_factor: float
    arm64_cpu_factor: float
    lambda_per_million: float
    s3_per_million: float

    @property
    def total_per_million(self) -> float:
        return self.lambda_per_million + self.s3_per_million


#: The ranges a report shows: every assumed wait halved and doubled, and arm64
#: from as fast as x86_64 per CPU second to 30 % slower.
WAIT_FACTORS = (0.5, 1.0, 2.0)
ARM64_FACTORS = (1.0, 1.15, 1.3)


def sensitivity(
    report: Report, architecture: str, memory_mb: int | None = None
) -> list[Sensitivity]:
    """The corpus mean at ``memory_mb`` (default: the recommended size) under moved assumptions.

    Waits x0.5, x1 and x2 on both architectures; on arm64 also its CPU factor at
    1.0, 1.15 and 1.3 (x86_64 is the reference, so its factor is always 1).
    """
    if memory_mb is None:
        chosen = report.recommended(architecture)
        if chosen is None:
            return []
        memory_mb = chosen.memory_mb
    arm_factors = ARM64_FACTORS if architecture == "arm64" else (1.0,)
    rows = []
    for arm_factor in arm_factors:
        for wait_factor in WAIT_FACTORS:
            moved = replace(
                report.assumptions.with_waits_scaled(wait_factor), arm64_cpu_factor=arm_factor
            )
            estimates = [
                estimate(m, memory_mb, architecture, report.prices, moved)
                for m in report.measurements
            ]
            rows.append(
                Sensitivity(
                    architecture=architecture,
                    memory_mb=memory_mb,
                    wait_factor=wait_factor,
                    arm64_cpu_factor=arm_factor if architecture == "arm64" else 1.0,
                    lambda_per_million=statistics.fmean(e.lambda_cost for e in estimates) * 1e6,
                    s3_per_million=statistics.fmean(e.s3_cost for e in estimates) * 1e6,
                )
            )
    return rows


def build_report(
    measurements: Sequence[Measurement],
    failures: Iterable[Failure] = (),
    *,
    memory_sizes: Sequence[int] = MEMORY_SIZES,
    architectures: Sequence[str] = ARCHITECTURES,
    prices: Prices = DEFAULT_PRICES,
    assumptions: Assumptions = DEFAULT_ASSUMPTIONS,
    strategy: Strategy = "balanced",
    settings_worst_case: WorstCase | None = None,
) -> Report:
    """Estimate every photo on every configuration and average per configuration.

    ``settings_worst_case`` (``_memory_table.worst_case`` of the settings) keeps
    every size that would refuse an allowed input out of the recommendation.
    """
    if strategy not in STRATEGIES:
        raise ValueError(f"strategy must be one of {STRATEGIES}")
    floor = settings_worst_case.needed_mb if settings_worst_case else 0
    sizes = set(memory_sizes)
    if floor and min(sizes) < floor < max(sizes):
        sizes.add(floor)  # the smallest size that holds every allowed input is a candidate
    rows = []
    for architecture in architectures:
        for memory_mb in sorted(sizes):
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
                    compute_ms=statistics.fmean(e.compute_ms for e in estimates),
                    wait_ms=statistics.fmean(e.io_ms for e in estimates),
                    cpu_cost=statistics.fmean(e.cpu_cost for e in estimates),
                    wait_cost=statistics.fmean(e.wait_cost for e in estimates),
                    fixed_cost=statistics.fmean(e.fixed_cost for e in estimates),
                    holds_allowed_inputs=memory_mb >= floor,
                )
            )
    return Report(
        measurements=tuple(measurements),
        failures=tuple(failures),
        rows=tuple(rows),
        prices=prices,
        assumptions=assumptions,
        strategy=strategy,
        settings_worst_case=settings_worst_case,
    )
