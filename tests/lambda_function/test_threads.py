"""The pipeline run from many threads at once gives exactly the single-threaded results.

The local stack and the load benchmark run several handlers as threads of one
process, each possibly with its own pixel cap. Nothing process-wide may change
while one of them works: one thread's cap must never refuse (or let through)
another thread's image.
"""

from __future__ import annotations

import random
import threading
import time
import warnings
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from PIL import Image

from lambda_function.errors import ErrorCode, ImageError
from lambda_function.once import once
from lambda_function.pipeline import Spec, VariantSpec, process

from . import images
from .images import BLUE, GREEN, RED, YELLOW

THREADS = 8
ROUNDS = 4
VARIANTS = tuple(VariantSpec.parse(name) for name in ("50x50", "200x200", "original"))


def _jobs() -> dict[str, tuple[bytes, Spec]]:
    """Different formats, modes and caps; some must be refused by their own cap only."""
    spec = Spec(variants=VARIANTS)
    capped = Spec(variants=VARIANTS, max_pixels=10_000)
    photo = images.jpeg(images.photo_like(480, 320), orientation=6)
    rgba = images.quadrants(300, 200, mode="RGBA")
    webp = images.animated_webp([RED, GREEN, BLUE], size=(160, 120))
    jobs = {
        "jpeg": (photo, spec),
        "jpeg-over-its-cap": (photo, capped),  # refused after the header is parsed
        "png-rgba": (images.png(rgba), spec),
        "png-over-its-cap": (images.png(rgba), capped),  # refused from the IHDR bytes
        "webp-animated": (webp, Spec(variants=VARIANTS, output_format="webp")),
        "webp-over-its-cap": (webp, capped),
        "gif-animated": (images.animated_gif([YELLOW, BLUE] * 2), spec),
        "png-bomb": (images.png_bomb(), spec),
        "jpeg-blur-only-small": (photo, Spec(variants=VARIANTS[:1], blur_radius=60)),
    }
    try:
        import pillow_heif  # noqa: F401
    except ImportError:
        pass
    else:
        jobs["heic"] = (images.heic(images.quadrants(320, 240)), spec)
    return jobs


def _outcome(data: bytes, spec: Spec) -> Any:
    """Everything a caller sees of a run, timings aside (they differ run to run)."""
    try:
        result = process(data, spec)
    except ImageError as error:
        return ("error", error.code)
    return (result.format, result.width, result.height, result.frames, result.placeholder,
            result.outputs)  # fmt: skip


def test_concurrent_runs_equal_single_threaded_runs() -> None:
    jobs = _jobs()
    expected = {name: _outcome(*job) for name, job in jobs.items()}
    # The mix the test relies on: the same bytes pass under one cap and fail under another.
    assert expected["jpeg-over-its-cap"] == ("error", ErrorCode.TOO_MANY_PIXELS)
    assert expected["png-over-its-cap"] == ("error", ErrorCode.TOO_MANY_PIXELS)
    assert expected["webp-over-its-cap"] == ("error", ErrorCode.TOO_MANY_PIXELS)
    assert expected["png-bomb"] == ("error", ErrorCode.TOO_MANY_PIXELS)
    assert expected["jpeg"][0] == "JPEG" and expected["png-rgba"][0] == "PNG"
    pixel_cap, filters = Image.MAX_IMAGE_PIXELS, list(warnings.filters)

    names = [name for name in jobs for _ in range(ROUNDS)]
    random.Random(17).shuffle(names)
    start = threading.Barrier(THREADS)

    def worker(share: list[str]) -> list[tuple[str, Any]]:
        start.wait(timeout=30)  # every thread starts at once, each on its own mix
        return [(name, _outcome(*jobs[name])) for name in share]

    with ThreadPoolExecutor(THREADS) as pool:
        shares = [names[index::THREADS] for index in range(THREADS)]
        results = [item for share in pool.map(worker, shares) for item in share]

    assert len(results) == len(names)
    mismatches = [name for name, outcome in results if outcome != expected[name]]
    assert not mismatches
    # And nothing process-wide was left changed.
    assert pixel_cap == Image.MAX_IMAGE_PIXELS
    assert list(warnings.filters) == filters


def test_once_runs_one_call_even_when_threads_race() -> None:
    calls: list[int] = []

    @once
    def build() -> object:
        calls.append(1)
        time.sleep(0.05)  # long enough for every thread to arrive while it runs
        return object()

    with ThreadPoolExecutor(THREADS) as pool:
        built = list(pool.map(lambda _: build(), range(THREADS * 2)))
    assert len(calls) == 1
    assert all(item is built[0] for item in built)


def test_once_tries_again_after_a_failure() -> None:
    attempts: list[int] = []

    @once
    def flaky() -> str:
        attempts.append(1)
        if len(attempts) == 1:
            raise ImportError("not yet")
        return "ready"

    with pytest.raises(ImportError):
        flaky()
    assert flaky() == "ready"
    assert flaky() == "ready"
    assert len(attempts) == 2
