"""The cost model against numbers worked out by hand."""

from __future__ import annotations

import pytest

from async_image_upload.tuning.model import (
    Assumptions,
    Measurement,
    S3Requests,
    compute_seconds,
    estimate,
    io_seconds,
    required_memory_mb,
    s3_request_cost,
    vcpus,
)
from async_image_upload.tuning.prices import DEFAULT_PRICES, prices_from

#: No network, no callback, no cold starts: only the CPU term is left.
CPU_ONLY = Assumptions(
    s3_get_latency_ms=0, s3_put_latency_ms=0, callback_ms=0, cold_start_fraction=0,
    arm64_cpu_factor=1.0,
)  # fmt: skip


def photo(**changes) -> Measurement:
    values = dict(
        name="p.jpg", bytes=0, width=4000, height=3000, cpu_s=0.5, wall_s=0.5,
        peak_rss_mb=100.0, init_s=0.0, s3_cpu_s=0.0, outputs=8, output_bytes=0,
    )  # fmt: skip
    values.update(changes)
    return Measurement(**values)


def test_one_vcpu_at_1769_mb_and_proportional_below():
    assert vcpus(1769) == 1
    assert vcpus(128) == pytest.approx(128 / 1769)
    assert vcpus(10240) == pytest.approx(5.7886, abs=1e-4)
    with pytest.raises(ValueError):
        vcpus(64)


def test_single_threaded_work_stops_getting_faster_at_1769_mb():
    one_thread = photo(cpu_s=0.5, wall_s=0.5)
    assert compute_seconds(one_thread, 1769, "x86_64", CPU_ONLY) == pytest.approx(0.5)
    assert compute_seconds(one_thread, 10240, "x86_64", CPU_ONLY) == pytest.approx(0.5)
    assert compute_seconds(one_thread, 128, "x86_64", CPU_ONLY) == pytest.approx(0.5 * 1769 / 128)


def test_multi_threaded_work_uses_up_to_the_threads_it_kept_busy():
    four_threads = photo(cpu_s=2.0, wall_s=0.5)
    assert four_threads.parallelism == 4
    assert compute_seconds(four_threads, 3538, "x86_64", CPU_ONLY) == pytest.approx(1.0)
    assert compute_seconds(four_threads, 10240, "x86_64", CPU_ONLY) == pytest.approx(0.5)


def test_arm64_factor_scales_cpu_time():
    slower_arm = Assumptions(arm64_cpu_factor=1.2)
    assert compute_seconds(photo(), 1769, "arm64", slower_arm) == pytest.approx(0.6)
    assert compute_seconds(photo(), 1769, "x86_64", slower_arm) == pytest.approx(0.5)


def test_duration_cost_is_billed_milliseconds_times_gb_times_price():
    result = estimate(photo(), 1769, "x86_64", DEFAULT_PRICES, CPU_ONLY)
    assert result.billed_ms == 500
    assert result.duration_cost == pytest.approx(0.5 * 1769 / 1024 * 0.0000166667)
    assert result.request_cost == pytest.approx(0.0000002)
    arm = estimate(photo(), 1769, "arm64", DEFAULT_PRICES, CPU_ONLY)
    assert arm.duration_cost == pytest.approx(0.5 * 1769 / 1024 * 0.0000133334)


def test_reproduces_the_original_projects_published_cost():
    """9,006 ms at 1,024 MB cost $0.000150 per image in the original's table (x86_64)."""
    cpu_s = 9.006 * 1024 / 1769  # 1,024 MB is 58 % of a vCPU
    slow = photo(cpu_s=cpu_s, wall_s=cpu_s)
    result = estimate(slow, 1024, "x86_64", DEFAULT_PRICES, CPU_ONLY)
    assert result.billed_ms == pytest.approx(9006, abs=1)
    assert round(result.duration_cost, 6) == 0.000150


def test_io_time_is_latency_per_request_plus_bytes_over_throughput():
    assumptions = Assumptions(
        s3_get_latency_ms=20, s3_put_latency_ms=30, s3_throughput_mb_s=80, callback_ms=50
    )
    measured = photo(bytes=6_000_000, output_bytes=2_000_000, outputs=8)
    # 8 MB at 80 MB/s; HEAD, GET manifest, GET source, DELETE; claim + 8 outputs + manifest
    # PUT; callback.
    assert io_seconds(measured, assumptions) == pytest.approx(0.1 + (4 * 20 + 10 * 30 + 50) / 1000)


def test_s3_requests_upload_claim_outputs_manifest_and_three_gets():
    assert S3Requests.per_upload(8) == S3Requests(put_class=11, get_class=3, free=1)
    assert s3_request_cost(8, DEFAULT_PRICES) == pytest.approx(
        11 * 0.005 / 1000 + 3 * 0.0004 / 1000
    )
    assert s3_request_cost(8, DEFAULT_PRICES) * 1e6 == pytest.approx(56.20)


def test_lambda_charge_splits_into_cpu_waits_and_fixed():
    assumptions = Assumptions(cold_start_fraction=0.01, arm64_cpu_factor=1.0)
    result = estimate(photo(init_s=0.5), 1024, "arm64", DEFAULT_PRICES, assumptions)
    assert result.cpu_cost + result.wait_cost == pytest.approx(result.duration_cost)
    assert result.cpu_cost / result.duration_cost == pytest.approx(
        result.compute_ms / (result.compute_ms + result.io_ms)
    )
    assert result.fixed_cost == pytest.approx(result.request_cost + result.init_cost)
    assert result.lambda_cost == pytest.approx(
        result.cpu_cost + result.wait_cost + result.fixed_cost
    )


def test_scaling_the_waits_moves_only_the_assumed_part():
    base = Assumptions()
    doubled = base.with_waits_scaled(2.0)
    measured = photo(bytes=6_000_000, output_bytes=2_000_000)
    assert io_seconds(measured, doubled) == pytest.approx(2 * io_seconds(measured, base))
    assert compute_seconds(measured, 1024, "arm64", doubled) == compute_seconds(
        measured, 1024, "arm64", base
    )


def test_s3_charges_can_exceed_lambdas():
    fast_photo = photo(cpu_s=0.05, wall_s=0.05)
    result = estimate(fast_photo, 512, "arm64")
    assert result.s3_cost > result.lambda_cost


def test_init_is_billed_on_the_cold_share_of_invocations():
    cold = Assumptions(
        s3_get_latency_ms=0, s3_put_latency_ms=0, callback_ms=0, cold_start_fraction=0.01,
        arm64_cpu_factor=1.0,
    )  # fmt: skip
    result = estimate(photo(init_s=1.0), 1024, "arm64", DEFAULT_PRICES, cold)
    assert result.init_cost == pytest.approx(0.01 * 1.0 * 1.0 * 0.0000133334)


def test_memory_needed_is_peak_plus_runtime_overhead():
    assumptions = Assumptions(runtime_overhead_mb=30)
    assert required_memory_mb(100, assumptions) == 130
    assert not estimate(photo(peak_rss_mb=100), 128, "arm64", assumptions=assumptions).fits
    assert estimate(photo(peak_rss_mb=100), 256, "arm64", assumptions=assumptions).fits


def test_prices_are_overridable_and_typos_are_errors():
    prices = prices_from({"region": "eu-west-1", "s3_put": 0.0000054})
    assert prices.s3_put == 0.0000054
    assert prices.lambda_gb_second_arm64 == DEFAULT_PRICES.lambda_gb_second_arm64
    with pytest.raises(ValueError, match="unknown price"):
        prices_from({"s3_puts": 1})
    with pytest.raises(ValueError, match="non-negative"):
        prices_from({"s3_put": -1})
