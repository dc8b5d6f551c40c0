"""manage.py thumbnail_cost_report on real photos, and deploy_thumbnail_stack reading its advice."""

from __future__ import annotations

import io
import json

import botocore.session
import pytest
from django.core.management import CommandError, call_command

SIZES = "256,1024,1769"


def report(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("thumbnail_cost_report", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def folder_report(photo_folder, tmp_path_factory):
    """One run over the folder (each photo costs a subprocess), shared by the tests below."""
    outputs = tmp_path_factory.mktemp("report")
    json_path, advice = outputs / "report.json", outputs / "thumbnail_tuning.json"
    out, err = report(
        str(photo_folder), "--repeats", "1", "--memory-sizes", SIZES,
        "--json", str(json_path), "--write-recommendation", str(advice),
    )  # fmt: skip
    return out, err, json.loads(json_path.read_text()), advice


def test_prints_a_table_per_architecture_with_the_choices(folder_report):
    out, _, _, _ = folder_report
    assert "arm64 ($1.33e-05 per GB-second)" in out
    assert "x86_64 ($1.67e-05 per GB-second)" in out
    assert "RECOMMENDED" in out and "fastest" in out and "cheapest" in out
    assert "Runs out of memory below" in out
    assert "S3 > Lambda" in out  # at these sizes the request charges dominate


def test_shows_measured_cpu_apart_from_waits_s3_beside_lambda_and_sensitivity(folder_report):
    out, _, data, _ = folder_report
    table = out.split("arm64 ($1.33e-05 per GB-second)")[1].split("\n\n")[0]
    header = table.splitlines()[1]
    for column in ("CPU ms", "waits ms", "Lambda CPU", "L. waits", "L. fixed", "Lambda", "S3 req."):
        assert column in header
    assert "S3 requests per upload (8 outputs): 11 PUT-class" in out
    sensitivity = out.split("Sensitivity (USD per million uploads")[1]
    assert "waits x0.5" in sensitivity and "waits x2" in sensitivity
    for factor in ("CPU factor 1 ", "CPU factor 1.15", "CPU factor 1.3"):
        assert factor in sensitivity
    assert len(data["sensitivity"]) == 9 + 3  # arm64: 3 waits x 3 factors; x86_64: 3 waits
    assert data["s3_requests_per_upload"] == {"put_class": 11, "get_class": 3, "free": 1}


def test_recommendation_holds_every_input_the_settings_allow(folder_report):
    out, _, data, _ = folder_report
    worst = data["settings_worst_case"]
    assert worst["content_type"] in out and "too_much_memory" in out
    assert data["recommended"]["arm64"] >= worst["needed_mb"]
    assert data["recommended"]["x86_64"] >= worst["needed_mb"]


def test_bad_files_are_listed_not_fatal(folder_report):
    out, err, data, _ = folder_report
    assert "BAD" in out and "broken.jpg" in out
    assert [f["code"] for f in data["failures"]] == ["corrupt"]
    assert "broken.jpg: BAD (corrupt)" in err  # the progress line


def test_walks_folders_for_photos_only(folder_report):
    _, err, data, _ = folder_report
    names = sorted(m["name"].rsplit("/", 1)[-1] for m in data["measurements"])
    assert names == ["camera.jpg", "logo.png"]
    assert "notes.txt" not in err
    assert "[3/3]" in err


def test_json_holds_real_measurements_and_every_row(folder_report):
    _, _, data, _ = folder_report
    camera = next(m for m in data["measurements"] if m["name"].endswith("camera.jpg"))
    assert (camera["width"], camera["height"]) == (1200, 1600)  # EXIF rotation applied
    assert camera["outputs"] == 8  # 3 boxes + original, each plain and blurred
    assert camera["cpu_s"] > 0 and camera["s3_cpu_s"] > 0
    assert 20 < camera["peak_rss_mb"] < 1000
    # The sizes asked for, plus the smallest that holds every input the settings allow.
    sizes = {int(size) for size in SIZES.split(",")} | {data["settings_worst_case"]["needed_mb"]}
    assert len(data["rows"]) == 2 * len(sizes)
    assert data["prices"]["as_of"] and data["recommended"]["arm64"] in sizes


def test_chart_is_written_when_matplotlib_is_installed(photo_folder, tmp_path):
    pytest.importorskip("matplotlib")
    chart = tmp_path / "chart.png"
    out, _ = report(
        str(photo_folder / "camera.jpg"), "--repeats", "1", "--memory-sizes", SIZES,
        "--arch", "arm64", "--chart", str(chart),
    )  # fmt: skip
    assert f"Wrote {chart}" in out
    assert chart.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "x86_64" not in out.split("Assumed:")[1]


def test_only_bad_files_is_an_error(photo_folder):
    with pytest.raises(CommandError, match="None of the 1 files"):
        report(str(photo_folder / "broken.jpg"))


def test_missing_path_is_an_error(tmp_path):
    with pytest.raises(CommandError, match="no such file"):
        report(str(tmp_path / "nope"))


@pytest.fixture
def no_aws_calls(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("an AWS client was created")

    monkeypatch.setattr(botocore.session.Session, "create_client", refuse)


def deploy_dry_run(*args: str) -> str:
    out = io.StringIO()
    call_command("deploy_thumbnail_stack", "--dry-run", *args, stdout=out)
    return out.getvalue()


def test_deploy_uses_the_recommended_memory(folder_report, no_aws_calls, monkeypatch):
    _, _, data, advice = folder_report
    monkeypatch.chdir(advice.parent)
    output = deploy_dry_run("--memory", "recommended", "--arch", "x86_64")
    assert f"x86_64, python3.12, {data['recommended']['x86_64']} MB" in output


def test_deploy_memory_setting_can_say_recommended(
    folder_report, no_aws_calls, monkeypatch, settings
):
    _, _, data, advice = folder_report
    monkeypatch.chdir(advice.parent)
    settings.ASYNC_IMAGE_UPLOAD = {**settings.ASYNC_IMAGE_UPLOAD, "DEPLOY_MEMORY_MB": "recommended"}
    assert f"{data['recommended']['arm64']} MB" in deploy_dry_run()
    assert "2048 MB" in deploy_dry_run("--memory", "2048")  # an explicit number still wins


def test_deploy_without_a_recommendation_says_how_to_make_one(no_aws_calls, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(CommandError, match="thumbnail_cost_report"):
        deploy_dry_run("--memory", "recommended")
    with pytest.raises(CommandError, match="recommended"):
        deploy_dry_run("--memory", "lots")
