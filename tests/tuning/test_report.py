"""Choosing sizes from a corpus: cheapest, fastest, recommended, never too small."""

from __future__ import annotations

import json

import pytest

from async_image_upload._memory_table import worst_case
from async_image_upload.tuning.model import Assumptions, Measurement
from async_image_upload.tuning.recommendation import (
    RecommendationError,
    read_recommended_memory,
    write_recommendation,
)
from async_image_upload.tuning.report import build_report, sensitivity


def photo(cpu_s: float, peak_rss_mb: float = 120.0) -> Measurement:
    return Measurement(
        name=f"{cpu_s}.jpg", bytes=5_000_000, width=4000, height=3000, cpu_s=cpu_s,
        wall_s=cpu_s, peak_rss_mb=peak_rss_mb, init_s=0.3, s3_cpu_s=0.01, outputs=8,
        output_bytes=5_100_000,
    )  # fmt: skip


SIZES = (128, 256, 512, 1024, 1769, 3008)


def test_fastest_single_threaded_size_is_one_vcpu_and_cheapest_is_the_smallest_safe():
    report = build_report([photo(0.09), photo(0.4)], memory_sizes=SIZES)
    # 120 MB peak + 30 MB runtime, times 1.25 headroom: 187.5 MB, so 128 MB is out.
    assert report.required_memory_mb == 150
    assert report.cheapest("arm64").memory_mb == 256
    assert report.fastest("arm64").memory_mb == 1769
    assert not next(r for r in report.rows_for("arm64") if r.memory_mb == 128).fits


def test_strategies_pick_cost_speed_or_the_balance():
    corpus = [photo(0.09), photo(0.4)]
    by_strategy = {
        strategy: build_report(corpus, memory_sizes=SIZES, strategy=strategy).recommended("x86_64")
        for strategy in ("cost", "speed", "balanced")
    }
    assert by_strategy["cost"].memory_mb == 256
    assert by_strategy["speed"].memory_mb == 1769
    assert 256 <= by_strategy["balanced"].memory_mb <= 1769


def test_heavier_photos_push_the_balanced_choice_up():
    light = build_report([photo(0.05)], memory_sizes=SIZES).recommended("arm64")
    heavy = build_report([photo(3.0)], memory_sizes=SIZES).recommended("arm64")
    assert heavy.memory_mb > light.memory_mb


def test_no_size_is_recommended_when_every_size_runs_out_of_memory():
    report = build_report([photo(0.1, peak_rss_mb=4000)], memory_sizes=(512, 1024))
    assert report.recommended("arm64") is None
    assert report.as_dict()["recommended"] == {"arm64": None, "x86_64": None}


def test_recommendation_file_round_trip(tmp_path):
    report = build_report([photo(0.2)], memory_sizes=SIZES)
    path = tmp_path / "tuning.json"
    write_recommendation(report.as_dict(), path)
    assert read_recommended_memory("arm64", path) == report.recommended("arm64").memory_mb
    assert json.loads(path.read_text())["photos"] == 1


def test_missing_or_empty_recommendation_says_how_to_make_one(tmp_path):
    with pytest.raises(RecommendationError, match="thumbnail_cost_report"):
        read_recommended_memory("arm64", tmp_path / "absent.json")
    empty = tmp_path / "empty.json"
    empty.write_text('{"recommended": {"arm64": null}}')
    with pytest.raises(RecommendationError, match="no memory size for arm64"):
        read_recommended_memory("arm64", empty)


def test_report_json_is_plain_data():
    assumptions = Assumptions(callback_ms=10)
    data = build_report([photo(0.2)], memory_sizes=(1024,), assumptions=assumptions).as_dict()
    json.dumps(data)
    assert data["assumptions"]["callback_ms"] == 10
    assert data["rows"][0]["cost_per_million"] == pytest.approx(data["rows"][0]["total_cost"] * 1e6)


ALL_TYPES = ["image/jpeg", "image/png", "image/gif", "image/webp", "image/heic", "image/avif"]
VARIANTS = ["50x50", "100x100", "400x400", "original"]


def test_never_recommends_a_size_that_refuses_an_input_the_settings_allow():
    """Small photos measured, but the settings allow a 50 MP WebP: the Lambda's estimate rules."""
    worst = worst_case(ALL_TYPES, VARIANTS, 20 * 1024 * 1024)
    report = build_report([photo(0.05)], memory_sizes=SIZES, settings_worst_case=worst)
    assert worst is not None and worst.needed_mb > report.measured_safe_memory_mb
    assert report.safe_memory_mb == worst.needed_mb
    for strategy in ("cost", "speed", "balanced"):
        chosen = build_report(
            [photo(0.05)], memory_sizes=SIZES, settings_worst_case=worst, strategy=strategy
        ).recommended("arm64")
        assert chosen.memory_mb >= worst.needed_mb
    # The smallest size that holds every allowed input is tabulated and is the cheapest safe one.
    assert report.cheapest("arm64").memory_mb == worst.needed_mb
    below = [r for r in report.rows_for("arm64") if r.memory_mb < worst.needed_mb]
    assert below and not any(r.holds_allowed_inputs for r in below)
    assert report.as_dict()["settings_worst_case"]["needed_mb"] == worst.needed_mb


def test_narrower_settings_allow_smaller_sizes():
    jpeg_only = worst_case(["image/jpeg"], ["50x50", "400x400"], 20 * 1024 * 1024)
    everything = worst_case(ALL_TYPES, VARIANTS, 20 * 1024 * 1024)
    assert jpeg_only.needed_mb < everything.needed_mb
    report = build_report([photo(0.05)], memory_sizes=SIZES, settings_worst_case=jpeg_only)
    assert report.recommended("arm64").memory_mb < everything.needed_mb


def test_rows_keep_measured_cpu_apart_from_assumed_waits():
    report = build_report([photo(0.09), photo(0.4)], memory_sizes=SIZES)
    for row in report.rows:
        assert row.compute_ms > 0 and row.wait_ms > 0
        assert row.cpu_cost + row.wait_cost + row.fixed_cost == pytest.approx(row.lambda_cost)
    no_waits = build_report(
        [photo(0.09)],
        memory_sizes=SIZES,
        assumptions=Assumptions(s3_get_latency_ms=0, s3_put_latency_ms=0, callback_ms=0),
    )
    transfer_ms = (5_000_000 + 5_100_000) / 80e6 * 1000  # only the transfer time is left
    assert all(row.wait_ms == pytest.approx(transfer_ms) for row in no_waits.rows)


def test_sensitivity_moves_waits_and_the_arm64_factor():
    report = build_report([photo(0.09), photo(0.4)], memory_sizes=SIZES)
    arm = sensitivity(report, "arm64")
    assert {(r.wait_factor, r.arm64_cpu_factor) for r in arm} == {
        (w, a) for w in (0.5, 1.0, 2.0) for a in (1.0, 1.15, 1.3)
    }
    assert len({r.memory_mb for r in arm}) == 1
    assert arm[0].memory_mb == report.recommended("arm64").memory_mb

    def total(wait: float, factor: float) -> float:
        return next(
            r.total_per_million
            for r in arm
            if (r.wait_factor, r.arm64_cpu_factor) == (wait, factor)
        )

    assert total(0.5, 1.15) < total(1.0, 1.15) < total(2.0, 1.15)
    assert total(1.0, 1.0) < total(1.0, 1.15) < total(1.0, 1.3)
    assert len({r.s3_per_million for r in arm}) == 1  # S3 requests do not depend on either
    x86 = sensitivity(report, "x86_64")
    assert [r.wait_factor for r in x86] == [0.5, 1.0, 2.0]


def test_cost_profile_table_renders_every_profile_with_the_split():
    """benchmarks.tuning_report's docs table, from hand-made measurements (the script measures)."""
    from benchmarks.tuning_report import PROFILE_END, PROFILE_START, render_profiles

    worst = worst_case(ALL_TYPES, VARIANTS, 20 * 1024 * 1024)
    reports = [
        (label, build_report([photo(cpu)], memory_sizes=SIZES, settings_worst_case=worst))
        for label, cpu in (("default", 0.1), ("without blur", 0.06), ("WebP", 0.2))
    ]
    text = render_profiles(reports)
    assert text.startswith(PROFILE_START) and text.rstrip().endswith(PROFILE_END)
    assert "CPU ms (measured)" in text and "waits ms (assumed)" in text and "S3 requests" in text
    labels = ("| default", "| without", "| WebP")
    rows = [line for line in text.splitlines() if line.startswith(labels)]
    assert len(rows) == 6  # three profiles on two architectures
    assert all(f"{worst.needed_mb} |" in row for row in rows)  # the default's recommended size
