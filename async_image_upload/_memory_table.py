"""The Lambda's memory estimate, for the system check and the deploy command.

A twin of ``lambda_function/memory_budget.py`` (the app never imports the
Lambda: the wheel carries it only as data). ``tests/test_contract.py`` keeps
the table and :func:`estimate_bytes` equal on both sides; change them together.

From the settings the worst input the Lambda accepts is known: ``MAX_PIXELS``
(the Lambda's 50 MP default) in the most expensive format among
``ALLOWED_CONTENT_TYPES``, with the configured variants. :func:`worst_case`
says which that is and what memory size holds it.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

MB = 1024 * 1024
RUNTIME_BASELINE_MB = 75
SAFETY_FACTOR = 1.15
FIRST_USE_OVERHEAD_MB = 24
SUGGESTION_STEP_MB = 64
MAX_FUNCTION_MB = 10240
#: The Lambda's default ``MAX_PIXELS`` (``lambda_function/config.py``): the largest frame.
LAMBDA_MAX_PIXELS = 50_000_000

DECODE_BYTES_PER_PIXEL: dict[str, float] = {
    "grey": 2.0,
    "palette": 10.0,
    "jpeg": 8.0,
    "jpeg_cmyk": 8.0,
    "png": 9.0,
    "png_16": 8.0,
    "webp": 17.0,
    "webp_animated": 18.0,
    "heif": 9.0,
    "avif": 9.5,
}
WORKING_BYTES_PER_PIXEL: dict[str, int] = {"grey": 1, "png_16": 1}
LIVE_OUTPUT_IMAGES = 4

#: The source kinds each accepted content type can arrive as.
KINDS_BY_CONTENT_TYPE: dict[str, tuple[str, ...]] = {
    "image/jpeg": ("jpeg", "jpeg_cmyk"),
    "image/png": ("png", "png_16", "palette", "grey"),
    "image/gif": ("palette",),
    "image/webp": ("webp", "webp_animated"),
    "image/heic": ("heif",),
    "image/heif": ("heif",),
    "image/avif": ("avif",),
}
#: Kinds libjpeg decodes at a DCT scale: at most twice the largest output per side.
_DRAFTS = frozenset({"jpeg", "jpeg_cmyk"})


def estimate_bytes(
    kind: str,
    decoded_pixels: int,
    working_pixels: int,
    largest_output_pixels: int,
    full_size_output: bool,
    held_bytes: int,
) -> int:
    """Peak bytes of the pipeline beyond the runtime (the Lambda's formula, see its twin)."""
    working_bpp = WORKING_BYTES_PER_PIXEL.get(kind, 4)
    reduced_copy = working_pixels * 4 if working_pixels < decoded_pixels else 0
    decoding = decoded_pixels * DECODE_BYTES_PER_PIXEL[kind] + reduced_copy
    working_copies = 2 if full_size_output else 1
    making = (
        working_copies * working_pixels + LIVE_OUTPUT_IMAGES * largest_output_pixels
    ) * working_bpp
    return int(FIRST_USE_OVERHEAD_MB * MB + held_bytes + max(decoding, making) * SAFETY_FACTOR)


def needed_mb(estimate: int) -> int:
    """The function memory size (MB, rounded up to a 64 MB step) that holds ``estimate`` bytes."""
    total = RUNTIME_BASELINE_MB + estimate / MB
    return int(math.ceil(total / SUGGESTION_STEP_MB) * SUGGESTION_STEP_MB)


@dataclass(frozen=True)
class WorstCase:
    """The most expensive input the settings allow and the memory it needs."""

    kind: str
    content_type: str
    pixels: int
    needed_mb: int


def worst_case(
    content_types: Iterable[str],
    variants: Iterable[str],
    max_upload_bytes: int,
    max_pixels: int = LAMBDA_MAX_PIXELS,
) -> WorstCase | None:
    """The allowed input that needs the most memory, or None if no type is known.

    Conservative where the Lambda decides per file: every kind is assumed
    decoded at ``max_pixels`` (a CMYK JPEG cannot be drafted when its original
    is re-encoded), each box variant as large as its box, and the source plus a
    stripped copy held.
    """
    names = list(variants)
    boxes = [name.split("x") for name in names if name != "original"]
    largest_box = max((int(w) * int(h) for w, h in boxes), default=0)
    full_size = "original" in names or largest_box >= max_pixels
    largest_output = min(largest_box, max_pixels)
    worst: WorstCase | None = None
    for content_type in content_types:
        for kind in KINDS_BY_CONTENT_TYPE.get(content_type, ()):
            drafted = kind in _DRAFTS and not full_size
            decoded = min(max_pixels, 4 * largest_output) if drafted else max_pixels
            estimate = estimate_bytes(
                kind, decoded, decoded, largest_output, full_size, 2 * max_upload_bytes
            )
            needed = needed_mb(estimate)
            if worst is None or needed > worst.needed_mb:
                worst = WorstCase(kind, content_type, max_pixels, needed)
    return worst


def memory_warning(
    memory_mb: int,
    content_types: Iterable[str],
    variants: Iterable[str],
    max_upload_bytes: int,
) -> str | None:
    """Why ``memory_mb`` cannot hold every input the settings allow, or None if it can."""
    worst = worst_case(content_types, variants, max_upload_bytes)
    if worst is None or worst.needed_mb <= memory_mb:
        return None
    return (
        f"The Lambda's {memory_mb} MB cannot hold every upload the settings allow: "
        f"a {worst.pixels // 1_000_000} MP {worst.content_type} ({worst.kind}) needs about "
        f"{worst.needed_mb} MB, so such uploads fail with too_much_memory."
    )
