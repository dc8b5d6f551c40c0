"""Benchmark the Lambda's image pipeline against libvips doing the same outputs.

Run from the repository root (about 15-25 minutes on 2 cores; the first run
also spends a few minutes encoding the HEIC and AVIF inputs, which are cached)::

    python -m benchmarks.lambda_pipeline                 # measure, update docs
    python -m benchmarks.lambda_pipeline --no-docs       # print only
    python -m benchmarks.lambda_pipeline --only heic-12  # a subset (labels containing it)

The corpus is generated reproducibly from real photographs that the
scikit-image wheel ships (no download), written to ``benchmarks/.corpus/``
(git-ignored). Every measurement runs in its own child process, and the
methods take turns (interleaved rounds, the order alternating), so a burst of
other load on the shared machine hits every column alike. The times are CPU
time (``time.process_time``: every thread of the process), the peak is the
child's ``VmHWM``.

The columns:

* **ours**: :func:`lambda_function.pipeline.process`, the default variants.
* **libvips**: the same files the way a libvips user would make them (see
  :func:`run_libvips`): one shrink-on-load decode at the largest size needed,
  a cascade to the smaller sizes, the blurred versions blurred premultiplied
  with the sharp alpha kept, the original passed through where ours passes it
  through and re-encoded where ours re-encodes it.
* **libvips, re-encoding**: the earlier yardstick (one ``thumbnail_buffer``
  per size, the original re-encoded); kept for comparison only.
* **baseline**: the original Lambda's algorithm, on the small and 12 MP JPEGs.
"""

from __future__ import annotations

import argparse
import base64
import io
import json
import math
import os
import platform
import random
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageChops, ImageDraw, ImageFilter, ImageStat

from benchmarks._doc_section import write_section
from benchmarks.memory_probe import status_mb

ROOT = Path(__file__).resolve().parent.parent
CORPUS = Path(__file__).resolve().parent / ".corpus" / "pipeline"
DOC = ROOT / "docs" / "performance.md"
START, END = "<!-- lambda-pipeline:start -->", "<!-- lambda-pipeline:end -->"
SOURCES = ["astronaut.png", "coffee.png", "chelsea.png", "rocket.jpg", "motorcycle_left.png"]
SIZES = (50, 100, 400)
VARIANTS = (*(f"{size}x{size}" for size in SIZES), "original")
QUALITY = 82
BLUR_RADIUS = 20
PLACEHOLDER_BOX, PLACEHOLDER_QUALITY = 16, 40
MP = {1: (1152, 864), 12: (4000, 3000), 24: (6000, 4000), 48: (8000, 6000)}


@dataclass(frozen=True)
class Sample:
    """One input: ``kind`` is the file format, ``mode`` RGB or RGBA."""

    label: str
    kind: str
    megapixels: int
    orientation: int = 1
    mode: str = "RGB"

    @property
    def size(self) -> tuple[int, int]:
        return MP[self.megapixels]

    @property
    def path(self) -> Path:
        extension = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp", "HEIF": "heic", "AVIF": "avif"}
        return CORPUS / f"{self.label}.{extension[self.kind]}"


SAMPLES = [
    Sample("jpeg-1", "JPEG", 1),
    Sample("jpeg-12", "JPEG", 12),
    Sample("jpeg-12-orientation-6", "JPEG", 12, orientation=6),
    Sample("jpeg-24", "JPEG", 24),
    Sample("jpeg-48", "JPEG", 48),
    Sample("heic-12", "HEIF", 12),
    Sample("heic-24", "HEIF", 24),
    Sample("heic-48", "HEIF", 48),
    Sample("avif-12", "AVIF", 12),
    Sample("webp-12", "WEBP", 12),
    Sample("png-rgb-12", "PNG", 12),
    Sample("png-rgba-12", "PNG", 12, mode="RGBA"),
]
#: The original algorithm takes seconds per run; it is measured where issue 3 set its target.
BASELINE_LABELS = ("jpeg-1", "jpeg-12")
#: The earlier, re-encoding yardstick: on the inputs the earlier tables had.
REENCODING_LABELS = ("jpeg-1", "jpeg-12", "jpeg-24", "png-rgba-12")


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


def cutout(scene: Image.Image) -> Image.Image:
    """The scene cut out along an ellipse (soft edge), transparent pixels keeping colour.

    Editors keep whatever colour lies under a fully transparent pixel; here it
    is the photo itself, so a blur that ignored alpha would show it.
    """
    mask = Image.new("L", scene.size, 0)
    inset = scene.width // 10
    ImageDraw.Draw(mask).ellipse((inset, inset, scene.width - inset, scene.height - inset), 255)
    rgba = scene.copy()
    rgba.putalpha(mask.filter(ImageFilter.GaussianBlur(scene.width / 400)))
    return rgba


def build(sample: Sample, seed: int) -> bytes:
    """Encode ``sample`` as a phone or an editor would (sizes near real files)."""
    scene = _scene(sample.size, seed)
    buffer = io.BytesIO()
    if sample.kind == "JPEG":
        exif = Image.Exif()
        exif[0x010F] = "BenchCam"
        if sample.orientation != 1:
            exif[0x0112] = sample.orientation
            scene = scene.transpose(Image.Transpose.ROTATE_90)  # stored as the camera would
        scene.save(buffer, "JPEG", quality=92, exif=exif)
    elif sample.kind == "HEIF":
        import pillow_heif

        pillow_heif.register_heif_opener()
        # x265's fastest preset: ten times quicker to make, about as large and as costly to
        # decode as the default's output (a phone's hardware encoder is no slower).
        # (Quality 60 at 48 MP keeps the grainy scene under the 20 MB upload cap.)
        quality = 80 if sample.megapixels < 48 else 60
        scene.save(buffer, "HEIF", quality=quality, enc_params={"preset": "ultrafast"})
    elif sample.kind == "AVIF":
        scene.save(buffer, "AVIF", quality=70, speed=8)
    elif sample.kind == "WEBP":
        scene.save(buffer, "WEBP", quality=85)
    else:
        image = cutout(scene) if sample.mode == "RGBA" else scene
        image.save(buffer, "PNG", compress_level=6)
    return buffer.getvalue()


def build_pipeline_corpus(samples: list[Sample]) -> None:
    """Write every sample once; reuse files from earlier runs (they are deterministic)."""
    CORPUS.mkdir(parents=True, exist_ok=True)
    for seed, sample in enumerate(SAMPLES):
        if sample in samples and not sample.path.exists():
            started = time.perf_counter()
            sample.path.write_bytes(build(sample, seed))
            print(f"built {sample.path.name} in {time.perf_counter() - started:.0f} s", flush=True)


# -- the cost report's corpus (benchmarks/tuning_report.py) ---------------------------


@dataclass(frozen=True)
class CostSample:
    name: str
    size: tuple[int, int]
    target_bytes: int  # 0: PNG, whatever it takes
    orientation: int = 1
    alpha: bool = False


#: The photos ``benchmarks.tuning_report`` prices (their names are in docs/tuning.md).
COST_SAMPLES = [
    CostSample("100KB", (800, 600), 100_000),
    CostSample("500KB", (1600, 1200), 500_000),
    CostSample("1MB", (2000, 1500), 1_000_000),
    CostSample("5MB-12MP", (4000, 3000), 5_000_000),
    CostSample("10MB-24MP", (6000, 4000), 10_000_000),
    CostSample("5MB-12MP-exif-rotated", (4000, 3000), 5_000_000, orientation=6),
    CostSample("PNG-alpha-6MP", (3000, 2000), 0, alpha=True),
]


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
    """The cost report's photos in ``benchmarks/.corpus/``, written once (deterministic)."""
    corpus = CORPUS.parent
    corpus.mkdir(exist_ok=True)
    paths = []
    for seed, sample in enumerate(COST_SAMPLES):
        path = corpus / (sample.name + (".png" if sample.alpha else ".jpg"))
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


# -- the methods ------------------------------------------------------------------------


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

    spec = Spec(variants=tuple(VariantSpec.parse(name) for name in VARIANTS), quality=QUALITY)
    return sum(len(output.data) for output in process(data, spec).outputs)


def _vips_source(data: bytes, kind: str, target: int):
    """Shrink-on-load decode to fit ``target`` (long side), upright, in memory.

    The libvips wheel has no HEVC decoder (patents), so a HEIC is decoded by
    pillow-heif, the decoder ours uses, and handed to libvips as pixels.
    """
    import pyvips

    if kind == "HEIF":
        import pillow_heif

        heif = pillow_heif.open_heif(data, convert_hdr_to_8bit=True)
        bands = 4 if heif.has_alpha else 3
        assert heif.stride == heif.size[0] * bands, "rows padded: not one libvips buffer"
        # libvips reads pillow-heif's buffer in place (no copy): the image must not
        # outlive ``heif``, so anything returned is computed into memory of its own.
        image = pyvips.Image.new_from_memory(heif.data, *heif.size, bands, "uchar")
        if max(image.width, image.height) > target:
            return image.thumbnail_image(target, height=target).copy_memory()
        return pyvips.Image.new_from_memory(image.write_to_memory(), *heif.size, bands, "uchar")
    return pyvips.Image.thumbnail_buffer(data, target, height=target).copy_memory()


def run_libvips(data: bytes) -> int:
    """The same outputs as ours, the way a libvips user would make them.

    * the format of each output follows ours (JPEG stays JPEG, PNG stays PNG,
      WebP stays WebP, HEIC and AVIF become JPEG); JPEG quality 82 with
      optimised Huffman tables up to 1 MP, PNG compression 6, WebP effort 4;
    * one ``thumbnail_buffer`` (shrink-on-load: JPEG DCT scaling, and for the
      others a decode then a reduce) at the largest size needed: the blurred
      original, ``1/min(8, long/256)`` of the full size, or the full size when
      the original must be re-encoded (HEIC, AVIF);
    * every smaller size resized (Lanczos 3) from the one before, premultiplied
      when there is alpha; blurs are ``gaussblur`` with our radii, premultiplied,
      keeping the sharp alpha (as ours does);
    * the original is the source's bytes (libvips cannot cut metadata out
      losslessly; ours does, at a small cost), except for HEIC and AVIF,
      re-encoded at full size like ours;
    * the 16-pixel WebP placeholder, from the 50-pixel image.
    """
    import pyvips

    kind = _kind(data)
    if kind == "HEIF":
        import pillow_heif

        width, height = pillow_heif.open_heif(data).size
    else:
        probe = pyvips.Image.new_from_buffer(data, "")  # the header only
        width, height = probe.width, probe.height
        if probe.get_typeof("orientation") and probe.get("orientation") in (5, 6, 7, 8):
            width, height = height, width
    long_side = max(width, height)
    reencode = kind in ("HEIF", "AVIF")
    factor = max(1, min(int(BLUR_RADIUS / 2.5), long_side // 256))
    original_blur = (math.ceil(width / factor), math.ceil(height / factor))
    boxes = {_fit((width, height), size): size for size in SIZES}
    steps = sorted([(original_blur, 0), *boxes.items()], key=lambda step: -_area(step[0]))
    top = (width, height) if reencode else steps[0][0]
    image = _vips_source(data, kind, max(top))
    alpha = image.hasalpha()
    suffix, options = {
        "JPEG": (".jpg", {"Q": QUALITY}),
        "PNG": (".png", {"compression": 6}),
        "WEBP": (".webp", {"Q": QUALITY, "effort": 4}),
    }.get(kind, (".webp", {"Q": QUALITY, "effort": 4}) if alpha else (".jpg", {"Q": QUALITY}))
    options["keep"] = pyvips.enums.ForeignKeep.NONE

    def save(picture) -> int:
        extra = {"optimize_coding": True} if suffix == ".jpg" and _pixels(picture) <= 1e6 else {}
        return len(picture.write_to_buffer(suffix, **options, **extra))

    def blurred(picture, sigma: float) -> int:
        if not alpha:
            return save(picture.gaussblur(sigma))
        soft = picture.premultiply().gaussblur(sigma).unpremultiply().cast("uchar")
        return save(soft[0:3].bandjoin(picture[3]))

    def resized(picture, size: tuple[int, int]):
        scale, vscale = size[0] / picture.width, size[1] / picture.height
        if not alpha:
            return picture.resize(scale, vscale=vscale, kernel="lanczos3").copy_memory()
        smaller = picture.premultiply().resize(scale, vscale=vscale, kernel="lanczos3")
        return smaller.unpremultiply().cast("uchar").copy_memory()

    total = save(image) if reencode else len(data)
    for size, box in steps:
        if (image.width, image.height) != size:
            image = resized(image, size)
        if box == 0:  # the blurred original
            total += blurred(image, BLUR_RADIUS * max(size) / long_side)
        else:
            radius = min(BLUR_RADIUS, max(BLUR_RADIUS * max(size) / long_side, max(size) / 100))
            total += save(image) + blurred(image, radius)
    scale = PLACEHOLDER_BOX / max(image.width, image.height)
    tiny = image.resize(scale, kernel="lanczos3").webpsave_buffer(
        Q=PLACEHOLDER_QUALITY, keep=pyvips.enums.ForeignKeep.NONE
    )
    return total + len(base64.b64encode(tiny))


def run_libvips_reencoding(data: bytes) -> int:
    """The earlier yardstick: ``thumbnail_buffer`` per size, the original re-encoded."""
    import pyvips

    suffix = ".png" if _kind(data) == "PNG" else ".jpg"
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


def run_decode_ours(data: bytes) -> int:
    """Decoding only, as ours does it (JPEG at the DCT scale for 1/8), for the breakdown."""
    from lambda_function.formats import sniff
    from lambda_function.opening import open_image

    image = open_image(data, sniff(data), 100_000_000)
    if image.format == "JPEG":
        image.draft(None, (image.width // 8, image.height // 8))
    image.load()
    return image.width


def run_decode_libvips(data: bytes) -> int:
    """Decoding only, as libvips does it (JPEG shrink-on-load by 8), for the breakdown."""
    import pyvips

    kind = _kind(data)
    if kind == "HEIF":
        return _vips_source(data, kind, 100_000).width
    options = {"shrink": 8} if kind == "JPEG" else {}
    return (
        pyvips.Image.new_from_buffer(data, "", access="sequential", **options).copy_memory().width
    )


def _kind(data: bytes) -> str:
    from lambda_function.formats import sniff

    return sniff(data).name


def _pixels(picture) -> int:
    return picture.width * picture.height


def _area(size: tuple[int, int]) -> int:
    return size[0] * size[1]


def _fit(size: tuple[int, int], box: int) -> tuple[int, int]:
    """As the pipeline's ``fit``: inside a square ``box``, never upscaled."""
    scale = min(1.0, box / size[0], box / size[1])
    return max(1, round(size[0] * scale)), max(1, round(size[1] * scale))


METHODS: dict[str, Callable[[bytes], int]] = {
    "ours": run_ours,
    "libvips": run_libvips,
    "libvips_reencoding": run_libvips_reencoding,
    "baseline": run_baseline,
    "decode_ours": run_decode_ours,
    "decode_libvips": run_decode_libvips,
}
LABELS = {
    "ours": "ours",
    "libvips": "libvips",
    "libvips_reencoding": "libvips, re-encoding",
    "baseline": "baseline",
    "decode_ours": "decode only, ours",
    "decode_libvips": "decode only, libvips",
}


def measure(method: str, path: Path, repeats: int) -> dict[str, object]:
    """In this (fresh) process: warm up once, then time ``repeats`` runs (CPU time)."""
    data = path.read_bytes()
    run = METHODS[method]
    if method == "ours":
        from lambda_function.pipeline import Spec  # noqa: F401 - imports before the baseline
    else:
        import pyvips  # noqa: F401
    baseline_mb = status_mb("VmRSS")
    run(data)
    times, walls = [], []
    for _ in range(repeats):
        started, wall = time.process_time(), time.perf_counter()
        run(data)
        times.append((time.process_time() - started) * 1000)
        walls.append((time.perf_counter() - wall) * 1000)
    report: dict[str, object] = {
        "cpu_ms": times,
        "wall_ms": walls,
        "peak_mb": status_mb("VmHWM"),
        "baseline_mb": baseline_mb,
    }
    if method == "ours":
        report["stages_ms"] = _our_stages(data)
    return report


def _our_stages(data: bytes) -> dict[str, float]:
    """Ours, per stage: the pipeline's own laps, in CPU time, over one more run.

    The pipeline times its stages by the wall clock (the handler logs them); on a
    shared machine that counts other processes' turns, so here its clock is
    swapped for this process's CPU clock.
    """
    import types

    from lambda_function import pipeline

    spec = pipeline.Spec(
        variants=tuple(pipeline.VariantSpec.parse(name) for name in VARIANTS), quality=QUALITY
    )
    wall_clock = pipeline.time
    pipeline.time = types.SimpleNamespace(perf_counter=time.process_time)  # type: ignore[assignment]
    try:
        return pipeline.process(data, spec).timings_ms
    finally:
        pipeline.time = wall_clock


def measure_in_subprocess(method: str, path: Path, repeats: int) -> dict[str, object]:
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
    import pillow_heif
    import pyvips

    cpu = platform.processor() or platform.machine()
    with open("/proc/cpuinfo") as info:
        names = [line.split(":", 1)[1].strip() for line in info if line.startswith("model name")]
    return (
        f"{names[0] if names else cpu} ({platform.machine()}), {os.cpu_count()} cores shared "
        f"with other work, Python {platform.python_version()}, Pillow {PIL.__version__}, "
        f"pillow-heif {pillow_heif.__version__}, "
        f"libvips {pyvips.version(0)}.{pyvips.version(1)}.{pyvips.version(2)}"
    )


def _cell(result: dict[str, object] | None) -> str:
    if result is None:
        return "-"
    return f"{statistics.median(result['cpu_ms']):.0f} ({min(result['cpu_ms']):.0f})"


def render(rows: list[dict], errors: dict[str, float], rounds: int, repeats: int) -> str:
    lines = [
        START,
        "## Lambda pipeline",
        "",
        f"Generated by `python -m benchmarks.lambda_pipeline` ({time.strftime('%Y-%m-%d')}, "
        f"{_machine()}).",
        "",
        "Every column makes the same files from the same input: 50x50, 100x100, 400x400 "
        "and original, each plain and blurred (radius 20 at full size, scaled with the "
        "variant), plus the 16-pixel WebP placeholder.",
        "",
        "* **ours**: `lambda_function.pipeline.process`: one decode (JPEG at a DCT scale, "
        "1/2 to 1/8, via `draft`), an early integer `reduce`, a Lanczos resize cascade, the "
        "original kept losslessly with its metadata cut out (HEIC and AVIF: re-encoded as "
        "JPEG at full size), the blurred original computed and stored at 1/8 size.",
        "* **libvips**: the same outputs the way a libvips user would make them "
        "(`run_libvips` in the benchmark): one shrink-on-load `thumbnail_buffer` at the "
        "largest size needed, a `resize` cascade (Lanczos 3, premultiplied with alpha), "
        "`gaussblur` with our radii, the original passed through as it was uploaded "
        "(libvips cannot cut metadata out losslessly, so it does a little less than ours "
        "there) or re-encoded where ours re-encodes it. The libvips wheel has no HEVC "
        "decoder, so for HEIC it starts from pillow-heif's decode (the same decoder ours "
        "uses). This is the yardstick.",
        "* **libvips, re-encoding**: the earlier yardstick: a `thumbnail_buffer` per size "
        "and the original decoded and re-encoded at full size: four decodes and a large "
        "encode ours does not do. Kept for comparison only.",
        "* **baseline**: the original Lambda (re-open, `thumbnail()`, blur, re-save per "
        "output), on two JPEGs only: it takes seconds per run.",
        "",
        "`-` means not measured: the baseline and the re-encoding yardstick run on a few "
        "inputs only, to keep the run short.",
        "",
        f"Times are CPU milliseconds (`time.process_time`, every thread) per input: the "
        f"median of {rounds} interleaved rounds x {repeats} runs, each round a fresh child "
        "process per method and input after one warm-up run, the methods' order "
        "alternating between rounds; the fastest run in brackets. **Peak MB** is the "
        "child's `VmHWM` (peak RSS: Python, the imports and the image together); the "
        "`libvips` child imports pyvips (and Pillow, pillow-heif for HEIC), ours Pillow "
        "and the pipeline. The machine is shared with other work: read ratios, not "
        "absolute times.",
        "",
        "| input | bytes | ours ms | libvips ms | ours / libvips CPU | peak MB ours / "
        "libvips | ours / libvips peak | libvips, re-encoding ms (peak MB) | baseline ms |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        ours, vips = row["ours"], row["libvips"]
        ratio = statistics.median(ours["cpu_ms"]) / statistics.median(vips["cpu_ms"])
        peak_ratio = ours["peak_mb"] / vips["peak_mb"]
        old = row.get("libvips_reencoding")
        old_cell = f"{_cell(old)} ({old['peak_mb']:.0f})" if old else "-"
        lines.append(
            f"| {row['label']} ({row['pixels'] / 1e6:.1f} MP) | {row['bytes']:,} "
            f"| {_cell(ours)} | {_cell(vips)} | {ratio:.2f}x "
            f"| {ours['peak_mb']:.0f} / {vips['peak_mb']:.0f} | {peak_ratio:.2f}x "
            f"| {old_cell} | {_cell(row.get('baseline'))} |"
        )
    lines += [
        "",
        "Where ours spends its time: the pipeline's own per-stage laps in CPU milliseconds "
        "(one run, so noisier than the medians above; `inspect` includes reading "
        "the EXIF, which for PNG decodes the pixels, and the lossless copy of the "
        "original; `convert` the integer reduce, colour and alpha handling), and beside "
        "them the CPU time of decoding alone in each library (JPEG at 1/8 scale, the "
        "others at full size; libvips' HEIC row is pillow-heif's decode):",
        "",
        "| input | inspect | decode | convert | resize | blur | encode | decode only, CPU ms: "
        "Pillow / libvips |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        stages = row["ours"]["stages_ms"]
        cells = " | ".join(
            f"{stages.get(stage, 0):.0f}"
            for stage in ("inspect", "decode", "convert", "resize", "blur", "encode")
        )
        decode = f"{_cell(row.get('decode_ours'))} / {_cell(row.get('decode_libvips'))}"
        lines.append(f"| {row['label']} | {cells} | {decode} |")
    lines += [
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
    write_section(DOC, START, END, section)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--measure", nargs=2, metavar=("METHOD", "PATH"))
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--only", help="only inputs whose label contains this")
    parser.add_argument("--methods", default=",".join(METHODS))
    parser.add_argument("--no-docs", action="store_true")
    parser.add_argument("--json", help="also write the raw results to this file")
    args = parser.parse_args()
    if args.measure:
        method, path = args.measure
        print(json.dumps(measure(method, Path(path), args.repeats)))
        return

    samples = [sample for sample in SAMPLES if not args.only or args.only in sample.label]
    methods = args.methods.split(",")
    build_pipeline_corpus(samples)
    rows = []
    for sample in samples:
        with Image.open(sample.path) if sample.kind != "HEIF" else _heif(sample.path) as image:
            pixels = image.width * image.height
        rows.append({"label": sample.label, "bytes": sample.path.stat().st_size, "pixels": pixels})
    for round_index in range(args.rounds):
        order = methods if round_index % 2 == 0 else methods[::-1]
        for row, sample in zip(rows, samples, strict=True):
            for method in order:
                if method == "baseline" and sample.label not in BASELINE_LABELS:
                    continue
                if method == "libvips_reencoding" and sample.label not in REENCODING_LABELS:
                    continue
                result = measure_in_subprocess(method, sample.path, args.repeats)
                merged = row.setdefault(method, {"cpu_ms": [], "wall_ms": [], "peak_mb": 0.0})
                merged["cpu_ms"] += result["cpu_ms"]
                merged["wall_ms"] += result["wall_ms"]
                merged["peak_mb"] = max(merged["peak_mb"], result["peak_mb"])
                if "stages_ms" in result:
                    merged["stages_ms"] = result["stages_ms"]
                print(
                    f"round {round_index + 1} {sample.label:>22} {method:>18}: "
                    f"cpu {statistics.median(result['cpu_ms']):.0f} ms, "
                    f"peak {result['peak_mb']:.0f} MB",
                    flush=True,
                )
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1))
    errors = {
        sample.label: blur_error(sample.path)
        for sample in samples
        if sample.kind == "JPEG" and sample.megapixels in (12, 24)
    }
    section = render(rows, errors, args.rounds, args.repeats)
    print(section)
    if not args.no_docs and "ours" in methods and "libvips" in methods:
        write_doc(section)


def _heif(path: Path) -> Image.Image:
    import pillow_heif

    pillow_heif.register_heif_opener()
    return Image.open(path)


if __name__ == "__main__":
    main()
