"""Choosing sizes from a corpus: cheapest, fastest, recommended, never too small."""

from __future__ import annotations

import json

import pytest

from async_image_upload.tuning.model import Assumptions, Measurement
from async_image_upload.tuning.recommendation import (
    RecommendationError,
    read_recommended_memory,
    write_recommendation,
)
from async_image_upload.tuning.report import build_report


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
