"""The memory budget: no input the settings allow gets the function killed for its memory.

The proof runs the real pipeline in a child process (``benchmarks/memory_probe.py``)
that imports what a cold start imports, and reads the child's peak RSS
(``VmHWM``), which is what Lambda charges against the memory size. Every case
must end ``ready`` with a peak under the function's memory and under the
budget's own estimate, or ``failed`` with ``too_much_memory``.

Most cases are scaled down (12-16 MP against a 256 MB function, the same
bytes per pixel as 48 MP against 1 GB) so the suite stays fast; a few run at
the sizes issue 11 reported.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from benchmarks import memory_inputs
from lambda_function import memory_budget
from lambda_function.config import load_config
from lambda_function.errors import ConfigError, ErrorCode, ImageError
from lambda_function.handler import lambda_handler
from lambda_function.pipeline import Spec, VariantSpec, process

from .conftest import CallbackServer, FakeContext
from .test_handler import s3_event, upload

ROOT = Path(__file__).resolve().parents[2]
#: Twelve boxes just under the source size: every one is a near-full-size output.
HUGE_VARIANTS = ",".join(f"{6999 - index}x{6999 - index}" for index in range(12))
DEFAULT_VARIANTS = "50x50,100x100,400x400,original"

# name -> (generator, arguments); each file is written once per session.
INPUTS: dict[str, Any] = {
    "jpeg_12mp": (memory_inputs.jpeg, ((4000, 3000),)),
    "jpeg_cmyk_12mp_o6": (memory_inputs.jpeg, ((4000, 3000), "CMYK", 6)),
    "png_rgba_12mp": (memory_inputs.png, ((4000, 3000), "RGBA")),
    "png_16_12mp": (memory_inputs.png, ((4000, 3000), "I;16")),
    "webp_alpha_12mp": (memory_inputs.webp, ((4000, 3000), "RGBA")),
    "gif_12mp": (memory_inputs.gif, ((4000, 3000),)),
    "heif_12mp_p3": (memory_inputs.heif, ((4000, 3000), memory_inputs.wide_gamut_icc())),
    "avif_flat_49mp": (memory_inputs.avif, ((7000, 7000), True)),
    "png_rgba_49mp": (memory_inputs.png, ((7000, 7000), "RGBA")),
    "jpeg_49mp": (memory_inputs.jpeg, ((7000, 7000),)),
}


@pytest.fixture(scope="session")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Every input, generated lazily and written once (a dict that fills on first use)."""
    folder = tmp_path_factory.mktemp("memory-inputs")

    class Lazy(dict[str, Path]):
        def __missing__(self, name: str) -> Path:
            generator, arguments = INPUTS[name]
            path = folder / name
            path.write_bytes(generator(*arguments))
            self[name] = path
            return path

    return Lazy()


def probe(path: Path, memory_mb: int, variants: str = DEFAULT_VARIANTS) -> dict[str, Any]:
    """Run the pipeline on ``path`` in a fresh interpreter; its report (peak RSS and outcome)."""
    completed = subprocess.run(
        [sys.executable, "-m", "benchmarks.memory_probe", str(path), "--memory-mb",
         str(memory_mb), "--variants", variants],
        cwd=ROOT, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert completed.returncode == 0, completed.stderr[-2000:]
    return json.loads(completed.stdout)


def assert_within_budget(report: dict[str, Any], memory_mb: int) -> None:
    """``ready`` under the memory and under the estimate, or refused with ``too_much_memory``."""
    assert report["peak_mb"] < memory_mb, report
    if report["status"] == "ready":
        # The estimate is an upper bound of what the pipeline held beyond the runtime.
        assert report["peak_mb"] <= report["baseline_mb"] + report["estimate_mb"], report
    else:
        assert report["code"] == ErrorCode.TOO_MUCH_MEMORY, report
        assert "MB would hold it" in report["message"], report


# -- in a child process -------------------------------------------------------

SCALED_CASES = [
    # (input, memory, variants, expected status)
    ("jpeg_12mp", 256, DEFAULT_VARIANTS, "ready"),  # draft decode at 1/8
    ("jpeg_12mp", 256, "3999x2999,3998x2998,3997x2997,3996x2996", "failed"),
    ("jpeg_12mp", 512, "3999x2999,3998x2998,3997x2997,3996x2996", "ready"),  # outputs streamed
    ("jpeg_cmyk_12mp_o6", 256, DEFAULT_VARIANTS, "ready"),  # re-encoded at full size
    ("png_rgba_12mp", 256, DEFAULT_VARIANTS, "ready"),
    ("png_16_12mp", 256, DEFAULT_VARIANTS, "ready"),
    ("webp_alpha_12mp", 256, DEFAULT_VARIANTS, "failed"),  # libwebp's canvases
    ("webp_alpha_12mp", 384, DEFAULT_VARIANTS, "ready"),
    ("gif_12mp", 256, DEFAULT_VARIANTS, "ready"),
    ("heif_12mp_p3", 256, DEFAULT_VARIANTS, "ready"),
]


@pytest.mark.parametrize(
    ("name", "memory_mb", "variants", "expected"),
    SCALED_CASES,
    ids=[f"{case[0]}-{case[1]}MB-{len(case[2].split(','))}v" for case in SCALED_CASES],
)
def test_scaled_inputs_fit_or_are_refused(
    inputs: dict[str, Path], name: str, memory_mb: int, variants: str, expected: str
) -> None:
    report = probe(inputs[name], memory_mb, variants)
    assert_within_budget(report, memory_mb)
    assert report["status"] == expected, report


@pytest.mark.parametrize(
    ("name", "memory_mb", "variants"),
    [
        ("avif_flat_49mp", 512, DEFAULT_VARIANTS),  # a 1.4 KB file that decodes to 49 MP
        ("png_rgba_49mp", 512, DEFAULT_VARIANTS),  # 616 MB before the budget
        ("png_rgba_49mp", 1024, DEFAULT_VARIANTS),
        ("jpeg_49mp", 1024, HUGE_VARIANTS),  # 4.9 GB before the outputs were streamed
    ],
)
def test_issue_11_offenders_at_full_size(
    inputs: dict[str, Path], name: str, memory_mb: int, variants: str
) -> None:
    assert_within_budget(probe(inputs[name], memory_mb, variants), memory_mb)


# -- the budget's decisions ---------------------------------------------------


def test_png_is_refused_before_its_exif_lookup_decodes_it(inputs: dict[str, Path]) -> None:
    """Pillow reads a PNG's orientation by decoding it all: the budget comes first."""
    report = probe(inputs["png_rgba_49mp"], 256)
    assert report["code"] == ErrorCode.TOO_MUCH_MEMORY, report
    assert report["peak_mb"] < report["baseline_mb"] + 40, report  # 196 MB if decoded


def test_refusal_names_the_memory_that_would_hold_it() -> None:
    source = memory_budget.Source("png", (7000, 7000), data_bytes=1_000_000)
    with pytest.raises(ImageError) as caught:
        memory_budget.plan(source, (7000, 7000), [(7000, 7000)], memory_mb=512)
    assert caught.value.code == ErrorCode.TOO_MUCH_MEMORY
    fits = memory_budget.needed_mb(
        memory_budget.estimate_bytes("png", 49_000_000, 49_000_000, 0, True, 1_000_000)
    )
    assert f"a function with {fits} MB would hold it" in caught.value.message
    assert fits % memory_budget.SUGGESTION_STEP_MB == 0
    memory_budget.plan(source, (7000, 7000), [(7000, 7000)], memory_mb=fits)  # fits: no raise


def test_every_requested_variant_counts() -> None:
    """Twelve near-full-size boxes cost more than one, though the decode is the same."""
    source = memory_budget.Source("jpeg", (7000, 7000), data_bytes=5_000_000)
    one = memory_budget.plan(source, (6999, 6999), [(6999, 6999)], None)
    many = memory_budget.plan(source, (6999, 6999), [(6999 - i, 6999 - i) for i in range(12)], None)
    assert many.estimate_mb >= one.estimate_mb
    assert one.estimate_mb > 4 * 49 * 4  # the working image and four live outputs


def test_jpeg_draft_scale_matches_what_libjpeg_decodes() -> None:
    import io

    from PIL import Image

    data = memory_inputs.jpeg((2000, 1500))
    for largest, expected in (((250, 187), 8), ((250, 188), 4), ((1000, 750), 2), ((1001, 9), 1)):
        assert memory_budget.draft_scale("jpeg", (2000, 1500), largest) == expected
        image = Image.open(io.BytesIO(data))
        image.draft(None, (2000 // expected, 1500 // expected))  # as the pipeline asks
        assert image.size == (-(-2000 // expected), -(-1500 // expected))
    assert memory_budget.draft_scale("png", (2000, 1500), (10, 10)) == 1


def test_reduce_factor_is_what_resize_would_reduce_by_anyway() -> None:
    # Pillow's resize(reducing_gap=2) reduces by int(7000 / 875 / 2) = 4 first, and so on.
    assert memory_budget.reduce_factor((7000, 7000), (875, 875)) == 4
    assert memory_budget.reduce_factor((7000, 7000), (400, 400)) == 8
    assert memory_budget.reduce_factor((7000, 7000), (3000, 3000)) == 1


def test_without_a_memory_size_nothing_is_refused() -> None:
    source = memory_budget.Source("webp", (16383, 3000), data_bytes=1)
    assert memory_budget.plan(source, (16383, 3000), [(16383, 3000)], None).estimate_mb > 512


def test_pipeline_refuses_before_decoding() -> None:
    """The refusal comes from the header: a 1.4 KB AVIF never reaches the decoder."""
    data = memory_inputs.avif((7000, 7000), flat=True)
    spec = Spec(variants=(VariantSpec.parse("original"),), memory_mb=256)
    with pytest.raises(ImageError) as caught:
        process(data, spec)
    assert caught.value.code == ErrorCode.TOO_MUCH_MEMORY
    assert "7000x7000 avif" in caught.value.message


# -- configuration and the handler ---------------------------------------------


def test_memory_size_comes_from_lambda_then_the_local_setting() -> None:
    assert load_config({}).memory_mb is None
    assert load_config({"FUNCTION_MEMORY_MB": "768"}).memory_mb == 768
    both = {"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "2048", "FUNCTION_MEMORY_MB": "768"}
    assert load_config(both).memory_mb == 2048
    with pytest.raises(ConfigError, match="FUNCTION_MEMORY_MB"):
        load_config({"FUNCTION_MEMORY_MB": "64"})


def test_handler_reports_too_much_memory_as_a_failed_callback(
    s3: Any, bucket: str, callback_server: CallbackServer, context: FakeContext,
    monkeypatch: pytest.MonkeyPatch, reload_config: Any,
) -> None:  # fmt: skip
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
    reload_config()
    upload_id = upload(s3, bucket, memory_inputs.avif((7000, 7000), flat=True))
    assert lambda_handler(s3_event(bucket, f"temp/{upload_id}"), context)["outcomes"] == ["failed"]
    (payload,) = callback_server.payloads()
    assert payload["error"]["code"] == "too_much_memory"
    assert "MB would hold it" in payload["error"]["message"]
