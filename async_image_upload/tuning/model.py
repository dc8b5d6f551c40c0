"""The cost model: one measured photo in, duration and cost at a memory size out.

Every assumption is a field of :class:`Assumptions`, documented where it is
declared and in docs/tuning.md, so a reader can disagree with a number and
change it (``thumbnail_cost_report`` has a flag for each) instead of the formula.

Duration of one warm invocation::

    compute = (cpu_s / min(parallelism, vcpus) + s3_cpu_s / min(1, vcpus))
              * cpu_scale * arch_factor
    io      = S3 requests (latency each + bytes / throughput) + callback round trip
    billed  = ceil(compute + io) in milliseconds

``compute`` comes from measured CPU time; ``io`` is assumed (nothing here can
time S3 in AWS). :class:`Estimate` keeps them apart, in time and in money, and
:meth:`Assumptions.with_waits_scaled` lets a report show how much the assumptions move it.

``vcpus(memory)`` is Lambda's CPU share: proportional to memory, one vCPU's worth
at 1,769 MB (so 5.79 at the 10,240 MB maximum, spread over up to six vCPUs).
``parallelism`` is measured (CPU time / wall time): Pillow's pipeline is one
thread, so it is ~1 and memory above 1,769 MB buys no speed, only cost.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, replace
from typing import Any

from async_image_upload.tuning.prices import DEFAULT_PRICES, Prices

#: Memory at which a function gets one full vCPU's worth of CPU time.
MB_PER_VCPU = 1769
MIN_MEMORY_MB = 128
MAX_MEMORY_MB = 10240
#: The sizes the report tabulates: the original project's 512-4096 plus both ends.
MEMORY_SIZES = (128, 256, 512, 768, 1024, 1536, 1769, 2048, 3008, 4096, 6144, 8192, 10240)

#: S3 requests per upload besides the output PUTs, counted from the code (and checked
#: against moto by tests/tuning/test_requests.py, which runs the real handler):
#: the client's presigned POST (PUT class); in lambda_function/handler.py HEAD source,
#: GET manifest (a 404 is billed too), GET source (GET class); the conditional claim PUT
#: (lambda_function/claim.py) and the manifest PUT (PUT class); DELETE source (free).
CLIENT_POSTS = 1
GET_CLASS_REQUESTS = 3
EXTRA_PUT_REQUESTS = 2
FREE_REQUESTS = 1
#: Of the GET-class requests, the ones that wait on S3 (all three) plus the DELETE.
WAITED_GET_CLASS = GET_CLASS_REQUESTS + FREE_REQUESTS


@dataclass(frozen=True)
class S3Requests:
    """The S3 requests one upload costs, by price class."""

    put_class: int
    get_class: int
    free: int

    @classmethod
    def per_upload(cls, outputs: int) -> S3Requests:
        """A first-time upload on the happy path (no duplicate event, no replaced source)."""
        return cls(
            put_class=CLIENT_POSTS + outputs + EXTRA_PUT_REQUESTS,
            get_class=GET_CLASS_REQUESTS,
            free=FREE_REQUESTS,
        )

    def cost(self, prices: Prices) -> float:
        return self.put_class * prices.s3_put + self.get_class * prices.s3_get


@dataclass(frozen=True)
class Measurement:
    """What running the real pipeline on one file cost on the measuring machine."""

    name: str
    bytes: int
    width: int
    height: int
    #: Median CPU seconds (user + system, all threads) of ``process()`` after a warm-up run.
    cpu_s: float
    #: Median wall seconds of the same runs.
    wall_s: float
    #: Peak RSS of a fresh process that imported the handler's modules and ran the pipeline.
    peak_rss_mb: float
    #: Wall seconds to import the handler's modules in that fresh process (the INIT proxy).
    init_s: float
    #: CPU seconds the S3 client spends on the handler's requests (signing, checksums, parsing).
    s3_cpu_s: float
    outputs: int
    output_bytes: int

    @property
    def parallelism(self) -> float:
        """Threads kept busy on average; 1.0 for single-threaded work."""
        return max(1.0, self.cpu_s / self.wall_s) if self.wall_s > 0 else 1.0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Assumptions:
    """The numbers the model cannot measure on a developer's machine. Defaults: docs/tuning.md."""

    #: Lambda x86_64 CPU seconds per CPU second measured here. 1.0: a Lambda vCPU is as fast
    #: as this machine's core. Calibrate by comparing the handler's logged pipeline timings.
    cpu_scale: float = 1.0
    #: arm64 (Graviton2) CPU seconds per x86_64 CPU second. Published compute-bound Lambda
    #: comparisons range from arm 19 % faster (AWS) to x86 ~16 % faster (numpy); libjpeg-turbo
    #: and Pillow's resampling use x86 SIMD more, so we assume arm is 15 % slower.
    arm64_cpu_factor: float = 1.15
    #: Per-request latency, Lambda to S3 in the same region (first byte / acknowledgement).
    s3_get_latency_ms: float = 20.0
    s3_put_latency_ms: float = 30.0
    #: Single-stream transfer rate between Lambda and S3 in the same region.
    s3_throughput_mb_s: float = 80.0
    #: The signed callback's round trip to Django (billed: the Lambda waits for the answer).
    callback_ms: float = 50.0
    #: Share of invocations that are cold starts (AWS: typically under 1 %).
    cold_start_fraction: float = 0.01
    #: Memory the Lambda runtime uses beyond our measuring process (runtime client, buffers).
    runtime_overhead_mb: float = 30.0
    #: Safety factor on the measured peak before a size is recommended.
    memory_headroom: float = 1.25

    def arch_factor(self, architecture: str) -> float:
        return self.arm64_cpu_factor if architecture == "arm64" else 1.0

    def with_waits_scaled(self, factor: float) -> Assumptions:
        """The same, with every assumed wait (S3 latencies and transfer, callback) x ``factor``."""
        return replace(
            self,
            s3_get_latency_ms=self.s3_get_latency_ms * factor,
            s3_put_latency_ms=self.s3_put_latency_ms * factor,
            s3_throughput_mb_s=self.s3_throughput_mb_s / factor,
            callback_ms=self.callback_ms * factor,
        )

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


DEFAULT_ASSUMPTIONS = Assumptions()


@dataclass(frozen=True)
class Estimate:
    """One photo at one memory size and architecture: time and money, broken down."""

    memory_mb: int
    architecture: str
    compute_ms: float
    io_ms: float
    billed_ms: int
    init_ms: float
    duration_cost: float
    request_cost: float
    init_cost: float
    s3_cost: float
    fits: bool

    @property
    def lambda_cost(self) -> float:
        """What Lambda bills: duration, the request, and INIT amortised over warm calls."""
        return self.duration_cost + self.request_cost + self.init_cost

    @property
    def cpu_cost(self) -> float:
        """The share of the duration charge spent computing (measured CPU, scaled)."""
        total_ms = self.compute_ms + self.io_ms
        return self.duration_cost * self.compute_ms / total_ms if total_ms else 0.0

    @property
    def wait_cost(self) -> float:
        """The share of the duration charge spent waiting on S3 and the callback (assumed)."""
        return self.duration_cost - self.cpu_cost

    @property
    def fixed_cost(self) -> float:
        """The request charge and the amortised INIT: the same whatever the photo."""
        return self.request_cost + self.init_cost

    @property
    def total_cost(self) -> float:
        return self.lambda_cost + self.s3_cost


def vcpus(memory_mb: int) -> float:
    """vCPU-seconds of CPU time per second at ``memory_mb`` (proportional, 1.0 at 1,769 MB)."""
    if not MIN_MEMORY_MB <= memory_mb <= MAX_MEMORY_MB:
        raise ValueError(f"Lambda memory must be {MIN_MEMORY_MB}-{MAX_MEMORY_MB} MB")
    return memory_mb / MB_PER_VCPU


def compute_seconds(
    measurement: Measurement, memory_mb: int, architecture: str, assumptions: Assumptions
) -> float:
    """Seconds of CPU work at this CPU share: the pipeline's and the S3 client's.

    The pipeline can use as many vCPUs as it kept busy when measured; the S3 client
    runs on one thread.
    """
    share = vcpus(memory_mb)
    seconds = measurement.cpu_s / min(measurement.parallelism, share)
    seconds += measurement.s3_cpu_s / min(1.0, share)
    return seconds * assumptions.cpu_scale * assumptions.arch_factor(architecture)


def io_seconds(measurement: Measurement, assumptions: Assumptions) -> float:
    """Waiting on S3 and the callback: per-request latency plus bytes over throughput.

    Modelled as independent of memory: the handler makes its requests one by one,
    and the time is spent waiting on the network, not on the CPU.
    """
    transfer_s = (measurement.bytes + measurement.output_bytes) / (
        assumptions.s3_throughput_mb_s * 1_000_000
    )
    # HEAD, GET manifest, GET source, DELETE source; the claim, each output and the manifest PUT.
    latency_ms = (
        WAITED_GET_CLASS * assumptions.s3_get_latency_ms
        + (measurement.outputs + EXTRA_PUT_REQUESTS) * assumptions.s3_put_latency_ms
    )
    return transfer_s + (latency_ms + assumptions.callback_ms) / 1000


def s3_request_cost(outputs: int, prices: Prices) -> float:
    """S3 request charges for one photo: the client's upload POST, the handler's requests."""
    return S3Requests.per_upload(outputs).cost(prices)


def estimate(
    measurement: Measurement,
    memory_mb: int,
    architecture: str,
    prices: Prices = DEFAULT_PRICES,
    assumptions: Assumptions = DEFAULT_ASSUMPTIONS,
) -> Estimate:
    """Duration and cost of processing ``measurement``'s photo on one configuration."""
    gb = memory_mb / 1024
    price = prices.gb_second(architecture)
    compute_s = compute_seconds(measurement, memory_mb, architecture, assumptions)
    io_s = io_seconds(measurement, assumptions)
    billed_ms = math.ceil((compute_s + io_s) * 1000)
    # INIT runs at full speed whatever the memory (Lambda does not throttle it) and has
    # been billed like INVOKE for zip-packaged managed runtimes since August 2025.
    init_ms = (
        measurement.init_s * assumptions.cpu_scale * assumptions.arch_factor(architecture) * 1000
    )
    init_cost = assumptions.cold_start_fraction * math.ceil(init_ms) / 1000 * gb * price
    return Estimate(
        memory_mb=memory_mb,
        architecture=architecture,
        compute_ms=compute_s * 1000,
        io_ms=io_s * 1000,
        billed_ms=billed_ms,
        init_ms=init_ms,
        duration_cost=billed_ms / 1000 * gb * price,
        request_cost=prices.lambda_request,
        init_cost=init_cost,
        s3_cost=s3_request_cost(measurement.outputs, prices),
        fits=memory_mb >= required_memory_mb(measurement.peak_rss_mb, assumptions),
    )


def required_memory_mb(peak_rss_mb: float, assumptions: Assumptions) -> float:
    """Below this configured memory the function would be killed for running out of memory."""
    return peak_rss_mb + assumptions.runtime_overhead_mb
