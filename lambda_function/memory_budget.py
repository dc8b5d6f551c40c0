"""The memory budget: decide from the header, before decoding, whether an image fits.

Lambda kills a function that outgrows its memory size: no manifest, no
callback, two retries, a stuck upload. So before a pixel is decoded the
pipeline asks :func:`plan` what the decode will hold, with the cheapest path
that keeps the outputs the same:

* JPEG decodes at the smallest DCT scale (1/2..1/8) that still covers the
  largest output (``draft``);
* every format is then shrunk by the integer factor ``resize`` would use first
  anyway (``Image.reduce``, a box filter ``reducing_gap=2`` leaves no trace of),
  before the mode and colour conversions, so those run on fewer pixels;
* the source is freed as soon as its first converted copy exists, and each
  output is encoded and dropped as soon as it is made.

What is left is compared with the function's memory minus the runtime's own
use; an image that still does not fit fails with ``too_much_memory`` and a
message naming the memory size that would hold it. We never trade quality for
memory: a smaller decode than the outputs need would make worse thumbnails.

The per-kind numbers are measured (``python -m benchmarks.memory_by_format``;
peak RSS of a child process, see ``benchmarks/memory_probe.py``), rounded up.
Django's ``async_image_upload/_memory_table.py`` keeps a twin of
:data:`DECODE_BYTES_PER_PIXEL` and :func:`estimate_bytes` for its system check
and the deploy warning; ``tests/test_contract.py`` keeps them equal.
"""

from __future__ import annotations

import math
from collections.abc import Collection
from dataclasses import dataclass

from .errors import ErrorCode, ImageError

MB = 1024 * 1024
#: RSS of the function before the first image: Python, the handler's imports
#: (Pillow, boto3) and one S3 client. Measured 53 MB on CPython 3.11/x86-64
#: (``benchmarks/memory_probe.py``, ``baseline_mb``); Lambda's runtime client
#: and botocore's response buffers add about 20 MB in AWS, hence 75.
RUNTIME_BASELINE_MB = 75
#: Headroom over the estimate for allocator slack (fragmentation, arenas).
SAFETY_FACTOR = 1.15
#: Loaded on first use, whatever the image size: codec libraries and their
#: tables (pillow-heif and libheif, libavif, libwebp), LittleCMS's sRGB profile
#: and the encoders' state. Measured 7 MB for JPEG; 24 covers the others.
FIRST_USE_OVERHEAD_MB = 24
#: Memory sizes Lambda offers are 128..10240 MB; suggestions round up to 64 MB.
SUGGESTION_STEP_MB = 64
MAX_FUNCTION_MB = 10240

#: Peak bytes per decoded pixel while decoding and converting one frame, per
#: source kind: the decoder's output in Pillow's storage (4 bytes for RGB,
#: RGBA, CMYK; 1 for L and P; 2 for 16-bit), the codec's own buffers (libheif's
#: and dav1d's YUV planes, libwebp's animation canvases) and the first
#: converted copy, which coexists with it.
DECODE_BYTES_PER_PIXEL: dict[str, float] = {
    "grey": 2.0,  # L (1) + a copy (1), any format
    "palette": 10.0,  # P (1) + RGBA (4) + RGBa or RGB (4): PNG and GIF; measured 9.8
    "jpeg": 8.0,  # RGB (4) + transposed or profile-converted copy (4); measured 7.9
    "jpeg_cmyk": 8.0,  # CMYK (4) + RGB (4); measured 7.9
    "png": 9.0,  # RGBA (4) + alpha probe (1) + RGBa (4); measured 8.6
    "png_16": 8.0,  # I;16 (2) + I (4) + the scaled copy; measured 6.7
    "webp": 17.0,  # libwebp's decoder canvases (2 x 4) + Pillow's RGBA (4) + RGBa (4); 16.4
    "webp_animated": 18.0,  # the same per frame, only the first is decoded; measured 17.1
    "heif": 9.0,  # libheif's YUV (1.5) and RGB (3) + Pillow's RGB (4); measured 8.0
    "avif": 9.5,  # dav1d's YUV (1.5) + RGB (4) + Pillow's RGB (4); measured 8.8
}
#: Bytes per pixel of the working image and of each output made from it.
WORKING_BYTES_PER_PIXEL: dict[str, int] = {"grey": 1, "png_16": 1}
#: Images of output size alive at once while the outputs are made: the
#: previous size (the next one's source), the current one, its blurred copy and
#: the encoder's converted copy (RGBa to RGBA, or flattened onto the background).
LIVE_OUTPUT_IMAGES = 4
_JPEG_SCALES = (8, 4, 2, 1)
#: ``resize``'s ``reducing_gap``: reduce (box filter) until the Lanczos step shrinks by
#: less than this. libvips' ``thumbnail`` uses 2 as well; 3 cost twice the resampling
#: CPU for a difference nobody sees at thumbnail sizes (benchmarks/lambda_pipeline.py).
REDUCING_GAP = 2


@dataclass(frozen=True)
class Source:
    """What the header says about the source, and the bytes already held for it."""

    kind: str
    size: tuple[int, int]  # as stored (before orientation)
    data_bytes: int
    kept_original_bytes: int = 0


@dataclass(frozen=True)
class Plan:
    """How to decode: the JPEG DCT scale, the early reduce factor, and the estimate."""

    draft_scale: int
    reduce_factor: int
    estimate_mb: int


def source_kind(format_name: str, mode: str, frames: int) -> str:
    """The row of :data:`DECODE_BYTES_PER_PIXEL` for a source of ``format_name`` in ``mode``."""
    if format_name == "JPEG":  # grey JPEGs too: their DCT scaling is what matters
        return "jpeg_cmyk" if mode == "CMYK" else "jpeg"
    if mode in ("1", "L"):
        return "grey"
    if format_name in ("PNG", "GIF") and mode == "P":
        return "palette"
    if format_name == "PNG":
        return "png_16" if mode.startswith("I") else "png"
    if format_name == "WEBP":
        return "webp_animated" if frames > 1 else "webp"
    return {"GIF": "palette", "HEIF": "heif", "AVIF": "avif"}.get(format_name, "avif")


def draft_scale(kind: str, size: tuple[int, int], largest: tuple[int, int]) -> int:
    """The JPEG DCT scale Pillow's ``draft(None, largest)`` picks (1 for other formats).

    Mirrors ``JpegImageFile.draft``: the largest of 8, 4, 2 whose floor ratio both
    sides allow, so the decode still covers ``largest``.
    """
    if not kind.startswith("jpeg"):
        return 1
    ratio = min(size[0] // max(1, largest[0]), size[1] // max(1, largest[1]))
    return next((scale for scale in _JPEG_SCALES if ratio >= scale), 1)


def reduce_factor(decoded: tuple[int, int], largest: tuple[int, int]) -> int:
    """The factor ``resize(reducing_gap=REDUCING_GAP)`` reduces by before resampling."""
    return max(
        1,
        min(decoded[0] // (REDUCING_GAP * largest[0]), decoded[1] // (REDUCING_GAP * largest[1])),
    )


def estimate_bytes(
    kind: str,
    decoded_pixels: int,
    working_pixels: int,
    largest_output_pixels: int,
    full_size_output: bool,
    held_bytes: int,
) -> int:
    """Peak bytes of the pipeline beyond the runtime: the larger of its two phases.

    Decoding holds the decoded frame and its codec buffers (``DECODE_BYTES_PER_PIXEL``)
    plus the reduced copy; making the outputs holds the working image and
    ``LIVE_OUTPUT_IMAGES`` images of the largest output's size other than the
    working size (``full_size_output`` adds one working copy). ``held_bytes``
    is the source file and the stripped original, alive throughout; the
    libraries loaded on first use add ``FIRST_USE_OVERHEAD_MB``.
    """
    working_bpp = WORKING_BYTES_PER_PIXEL.get(kind, 4)
    reduced_copy = working_pixels * 4 if working_pixels < decoded_pixels else 0
    decoding = decoded_pixels * DECODE_BYTES_PER_PIXEL[kind] + reduced_copy
    # A full-size output is ``working`` itself, plus the encoder's converted copy.
    working_copies = 2 if full_size_output else 1
    making = (
        working_copies * working_pixels + LIVE_OUTPUT_IMAGES * largest_output_pixels
    ) * working_bpp
    return int(FIRST_USE_OVERHEAD_MB * MB + held_bytes + max(decoding, making) * SAFETY_FACTOR)


def needed_mb(estimate: int) -> int:
    """The function memory size (MB, rounded up to a 64 MB step) that holds ``estimate`` bytes."""
    total = RUNTIME_BASELINE_MB + estimate / MB
    return int(math.ceil(total / SUGGESTION_STEP_MB) * SUGGESTION_STEP_MB)


def plan(
    source: Source,
    largest: tuple[int, int],
    targets: Collection[tuple[int, int]],
    memory_mb: int | None,
) -> Plan:
    """The cheapest decode for ``source``; raise ``too_much_memory`` if even it cannot fit.

    ``largest`` is the largest output in the source's stored orientation;
    ``memory_mb`` None (scripts, benchmarks) plans without refusing.
    """
    scale = draft_scale(source.kind, source.size, largest)
    decoded = (math.ceil(source.size[0] / scale), math.ceil(source.size[1] / scale))
    factor = reduce_factor(decoded, largest)
    working = (decoded[0] // factor, decoded[1] // factor)
    full_size = sorted(working)
    largest_output = max(
        (w * h for w, h in targets if sorted((w, h)) != full_size),
        default=0,
    )
    estimate = estimate_bytes(
        source.kind,
        decoded[0] * decoded[1],
        working[0] * working[1],
        largest_output,
        any(sorted(target) == full_size for target in targets),
        source.data_bytes + source.kept_original_bytes,
    )
    result = Plan(scale, factor, math.ceil(estimate / MB))
    if memory_mb is None:
        return result
    available_mb = memory_mb - RUNTIME_BASELINE_MB
    if result.estimate_mb > available_mb:
        fits = needed_mb(estimate)
        advice = (
            f"a function with {fits} MB would hold it"
            if fits <= MAX_FUNCTION_MB
            else "no Lambda memory size holds it"
        )
        raise ImageError(
            ErrorCode.TOO_MUCH_MEMORY,
            f"{source.size[0]}x{source.size[1]} {source.kind} needs about {result.estimate_mb} MB "
            f"to process, {available_mb} MB of the function's {memory_mb} MB are free; {advice}",
        )
    return result
