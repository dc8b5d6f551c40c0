"""Benchmark the Lambda's image pipeline against the original algorithm and pyvips.

Run from the repository root (about 5 minutes on 2 cores)::

    python -m benchmarks.lambda_pipeline            # build corpus, measure, update docs
    python -m benchmarks.lambda_pipeline --no-docs  # print only

The corpus is generated reproducibly from real photographs that the
scikit-image wheel ships (no download), written to ``benchmarks/.corpus/``
(git-ignored). Every measurement runs in its own subprocess so ``ru_maxrss``
is the peak RSS of that method on that image alone.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import platform
import random
import resource
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageChops, ImageDraw, ImageFilter, ImageStat

ROOT = Path(__file__).resolve().parent.parent
CORPUS = Path(__file__).resolve().parent / ".corpus"
DOC = ROOT / "docs" / "performance.md"
START, END = "<!-- lambda-pipeline:start -->", "<!-- lambda-pipeline:end -->"
SOURCES = ["astronaut.png", "coffee.png", "chelsea.png", "rocket.jpg", "motorcycle_left.png"]
SIZES = (50, 100, 400)
QUALITY = 82
BLUR_RADIUS = 20


@dataclass(frozen=True)
class Sample:
    name: str
    size: tuple[int, int]
    target_bytes: int  # 0: PNG, whatever it takes
    orientation: int = 1
    alpha: bool = False


SAMPLES = [
    Sample("100KB", (800, 600), 100_000),
    Sample("500KB", (1600, 1200), 500_000),
    Sample("1MB", (2000, 1500), 1_000_000),
    Sample("5MB-12MP", (4000, 3000), 5_000_000),
    Sample("10MB-24MP", (6000, 4000), 10_000_000),
    Sample("5MB-12MP-exif-rotated", (4000, 3000), 5_000_000, orientation=6),
    Sample("PNG-alpha-6MP", (3000, 2000), 0, alpha=True),
]


# -- corpus -------------------------------------------------------------------------


def _scene(size: tuple[int, int], seed: int) -> Image.Image:
    """A mosaic of real photos, upscaled, with luminance grain like a phone sensor's."""
    import skimage

    data_dir = Path(skimage.__file__).parent / "data"
    rng = random.Random(seed)
    width, height = size
    columns, rows = 3, 2
    canvas = Image.new("RGB", size)
    names = SOURCES * 2
    rng.shuffle(names)
    for index in range(columns * rows):
        photo = Image.open(data_dir / names[index]).convert("RGB")
        box = (
            index % columns * width // columns,
            index // columns * height // rows,
            (index % columns + 1) * width // columns,
            (index // columns + 1) * height // rows,
        )
        tile_size = (box[2] - box[0], box[3] - box[1])
        canvas.paste(photo.resize(tile_size, Image.Resampling.LANCZOS), box[:2])
    grain = Image.frombytes("L", size, rng.randbytes(width * height))
    grain = grain.filter(ImageFilter.GaussianBlur(0.7)).convert("RGB")
    return Image.blend(canvas, grain, 0.12)


def _jpeg_near(image: Image.Image, target: int, exif: Image.Exif) -> bytes:
    """Binary-search the JPEG quality whose file size is closest to ``target``."""
    best = b""
    low, high = 40, 98
    while low <= high:
        quality = (low + high) // 2
        buffer = io.BytesIO()
        image.save(buffer, "JPEG", quality=quality, exif=exif)
        data = buffer.getvalue()
        if not best or abs(len(data) - target) < abs(len(best) - target):
            best = data
        if len(data) < target:
            low = quality + 1
        else:
            high = quality - 1
    return best


def build_corpus() -> list[Path]:
    """Write every sample once; reuse files from earlier runs (they are deterministic)."""
    CORPUS.mkdir(exist_ok=True)
    paths = []
    for seed, sample in enumerate(SAMPLES):
        path = CORPUS / (sample.name + (".png" if sample.alpha else ".jpg"))
        paths.append(path)
        if path.exists():
            continue
        scene = _scene(sample.size, seed)
        exif = Image.Exif()
        exif[0x010F] = "BenchCam"
        if sample.alpha:
            mask = Image.new("L", sample.size, 0)
            ImageDraw.Draw(mask).ellipse((0, 0, *sample.size), fill=255)
            scene.putalpha(mask.filter(ImageFilter.GaussianBlur(40)))
            scene.save(path, "PNG")
            continue
        if sample.orientation != 1:
            exif[0x0112] = sample.orientation
            scene = scene.transpose(Image.Transpose.ROTATE_90)  # stored as the camera would
        path.write_bytes(_jpeg_near(scene, sample.target_bytes, exif))
    return paths


# -- the three methods -----------------------------------------------------------------


def run_baseline(data: bytes) -> int:
    """The original Lambda: re-open, thumbnail, blur, re-save for every output."""
    total = 0
    for size in (None, *SIZES):
        for blurred in (False, True):
            image = Image.open(io.BytesIO(data))
            source_format = image.format
            if size:
                image.thumbnail((size, size))
            if blurred:
                image = image.filter(
                    ImageFilter.GaussianBlur(BLUR_RADIUS if size is None else size / 100)
                )
            buffer = io.BytesIO()
            image.save(buffer, source_format)
            total += buffer.tell()
    return total


def run_ours(data: bytes) -> int:
    from lambda_function.pipeline import Spec, VariantSpec, process

    names = (*(f"{size}x{size}" for size in SIZES), "original")
    spec = Spec(variants=tuple(VariantSpec.parse(name) for name in names), quality=QUALITY)
    return sum(len(output.data) for output in process(data, spec).outputs)


def run_pyvips(data: bytes) -> int:
    """pyvips doing the same outputs idiomatically: thumbnail (shrink-on-load) per size.

    libvips cannot strip metadata losslessly, so its original is a re-encode;
    its blurred original is made at 1/8 size like ours.
    """
    import pyvips

    probe = pyvips.Image.new_from_buffer(data, "", access="sequential")
    suffix = ".png" if probe.hasalpha() else ".jpg"
    options = {"keep": pyvips.enums.ForeignKeep.NONE}
    if suffix == ".jpg":
        options["Q"] = QUALITY
    total = 0
    for size in SIZES:
        thumb = pyvips.Image.thumbnail_buffer(data, size, height=size).copy_memory()
        total += len(thumb.write_to_buffer(suffix, **options))
        total += len(thumb.gaussblur(max(size / 100, 0.5)).write_to_buffer(suffix, **options))
    full = pyvips.Image.new_from_buffer(data, "").autorot()  # rotation needs random access
    total += len(full.write_to_buffer(suffix, **options))
    reduced = pyvips.Image.thumbnail_buffer(data, max(full.width, full.height) // 8).copy_memory()
    total += len(reduced.gaussblur(BLUR_RADIUS / 8).write_to_buffer(suffix, **options))
    return total


METHODS = {"baseline": run_baseline, "ours": run_ours, "pyvips": run_pyvips}


def measure(method: str, path: Path, repeats: int) -> dict[str, float]:
    """In this (fresh) process: warm up once, then time ``repeats`` runs."""
    data = path.read_bytes()
    run = METHODS[method]
    run(data)
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        run(data)
        times.append((time.perf_counter() - started) * 1000)
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {
        "median_ms": statistics.median(times),
        "min_ms": min(times),
        "peak_rss_mb": peak_kib / 1024,
    }


def measure_in_subprocess(method: str, path: Path, repeats: int) -> dict[str, float]:
    output = subprocess.run(  # noqa: S603 - our own module, fixed arguments
        [sys.executable, "-m", "benchmarks.lambda_pipeline", "--measure", method, str(path),
         "--repeats", str(repeats)],
        cwd=ROOT, check=True, capture_output=True, text=True,
    ).stdout  # fmt: skip
    return json.loads(output.strip().splitlines()[-1])


def blur_error(path: Path) -> float:
    """MAD (0-255) of our reduced blurred original, upscaled, vs a full-resolution blur."""
    from PIL import ImageOps

    from lambda_function.pipeline import Spec, VariantSpec, process

    data = path.read_bytes()
    result = process(data, Spec(variants=(VariantSpec.parse("original"),), quality=QUALITY))
    blurred = next(output for output in result.outputs if output.blurred)
    stored = Image.open(io.BytesIO(blurred.data)).convert("RGB")
    full = ImageOps.exif_transpose(Image.open(io.BytesIO(data))).convert("RGB")
    truth = full.filter(ImageFilter.GaussianBlur(BLUR_RADIUS))
    upscaled = stored.resize(full.size, Image.Resampling.BICUBIC)
    return sum(ImageStat.Stat(ImageChops.difference(upscaled, truth)).mean) / 3


# -- report ----------------------------------------------------------------------------


def _machine() -> str:
    import PIL
    import pyvips

    return (
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}, Pillow {PIL.__version__}, "
        f"libvips {pyvips.version(0)}.{pyvips.version(1)}.{pyvips.version(2)}"
    )


def render(rows: list[dict], errors: dict[str, float]) -> str:
    lines = [
        START,
        "## Lambda pipeline",
        "",
        "Generated by `python -m benchmarks.lambda_pipeline` "
        f"({time.strftime('%Y-%m-%d')}, {_machine()}).",
        "",
        "What each column does, for the outputs 50x50, 100x100, 400x400 and original, "
        "each plain and blurred (8 files):",
        "",
        "* **baseline**: the original Lambda's algorithm. For every output: re-open the "
        "bytes, `thumbnail()`, Gaussian blur (radius 20 for the original size, size/100 "
        "for thumbnails), re-save in the source format with Pillow's defaults.",
        "* **ours**: `lambda_function.pipeline.process`: one decode with JPEG DCT scaling, "
        "a resize cascade, the original kept losslessly with its metadata cut out, the "
        "blurred original computed and stored at 1/8 size, EXIF orientation applied, "
        "everything stripped.",
        "* **pyvips**: `pyvips.Image.thumbnail_buffer` (shrink-on-load) per size plus "
        "`gaussblur`, the original re-encoded with `keep=none` (libvips cannot strip "
        "losslessly), the blurred original at 1/8 size like ours. The speed reference.",
        "",
        "Milliseconds are the median of repeated runs after one warm-up (5 for the "
        "baseline, 15 for the others), the fastest run in brackets; each method and "
        "image runs in a fresh process, and peak RSS is that process's `ru_maxrss` "
        "(Python, Pillow and the image together). Ratios use the medians. The "
        "benchmark machine is shared, so medians carry noise from other load; the "
        "fastest run shows the uncontended cost.",
        "",
        "| image | bytes | pixels | baseline ms | ours ms | pyvips ms | "
        "ours vs baseline | ours vs pyvips | peak RSS MB (base / ours / vips) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        base, ours, vips = row["baseline"], row["ours"], row["pyvips"]
        lines.append(
            f"| {row['name']} | {row['bytes']:,} | {row['pixels'] / 1e6:.1f} MP "
            f"| {base['median_ms']:.0f} ({base['min_ms']:.0f}) "
            f"| {ours['median_ms']:.0f} ({ours['min_ms']:.0f}) "
            f"| {vips['median_ms']:.0f} ({vips['min_ms']:.0f}) "
            f"| {base['median_ms'] / ours['median_ms']:.1f}x faster "
            f"| {vips['median_ms'] / ours['median_ms']:.2f}x "
            f"| {base['peak_rss_mb']:.0f} / {ours['peak_rss_mb']:.0f} / "
            f"{vips['peak_rss_mb']:.0f} |"
        )
    lines += [
        "",
        '"ours vs pyvips" above 1 means ours is faster.',
        "",
        "Blurred original stored at reduced resolution: mean absolute difference, on a "
        "0-255 scale, between it upscaled (bicubic) to full size and a true "
        "full-resolution Gaussian blur of radius 20 (bound: 2):",
        "",
    ]
    lines += [f"* {name}: {error:.2f}" for name, error in errors.items()]
    lines += ["", END]
    return "\n".join(lines) + "\n"


def write_doc(section: str) -> None:
    text = DOC.read_text() if DOC.exists() else "# Performance\n\n"
    if START in text and END in text:
        before, rest = text.split(START, 1)
        text = before + section.rstrip("\n") + rest.split(END, 1)[1]
    else:
        text = text.rstrip("\n") + "\n\n" + section
    DOC.write_text(text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--measure", nargs=2, metavar=("METHOD", "PATH"))
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--no-docs", action="store_true")
    args = parser.parse_args()
    if args.measure:
        method, path = args.measure
        print(json.dumps(measure(method, Path(path), args.repeats)))
        return

    rows = []
    for path in build_corpus():
        with Image.open(path) as image:
            pixels = image.width * image.height
        row = {"name": path.stem, "bytes": path.stat().st_size, "pixels": pixels}
        for method in METHODS:
            repeats = 5 if method == "baseline" else 15
            row[method] = measure_in_subprocess(method, path, repeats)
            print(f"{path.stem:>24} {method:>9}: {row[method]}", flush=True)
        rows.append(row)
    errors = {
        path.stem: blur_error(path)
        for path in build_corpus()
        if path.stem.startswith(("5MB-12MP", "10MB"))
    }
    section = render(rows, errors)
    print(section)
    if not args.no_docs:
        write_doc(section)


if __name__ == "__main__":
    main()
