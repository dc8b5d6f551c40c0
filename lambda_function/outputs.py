"""The formats outputs are encoded in, and the names of the files the Lambda writes.

One table: ``OUTPUT_FORMAT``'s accepted values (:mod:`.config`), the content
type and extension of every re-encoded output and the options it is saved with
(:mod:`.pipeline`) are all read from :data:`OUTPUTS`, so adding a format is one
row here. Django cannot import this package (the wheel ships it as the Lambda's
source, not as a module of the app), so ``async_image_upload/reconcile.py``
keeps :data:`FILE_EXTENSIONS`, :data:`MANIFEST_NAME` and :data:`CLAIM_NAME` as twins, held equal by
``tests/test_contract.py``.
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from .formats import ALLOWED


@dataclass(frozen=True)
class OutputFormat:
    """How one output format is named, labelled and saved."""

    #: The ``OUTPUT_FORMAT`` value that asks for it.
    name: str
    pillow_format: str
    content_type: str
    extension: str
    #: False for JPEG: transparent pixels are flattened onto the background colour.
    alpha: bool
    #: Whether ``OUTPUT_QUALITY`` applies (lossy codecs only).
    takes_quality: bool
    #: ``Image.save`` options that never change with the image.
    options: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    #: Optimise entropy coding up to this many pixels: cheap there, saves ~5-10 %.
    optimize_max_pixels: int | None = None

    def save_options(self, pixels: int, quality: int) -> dict[str, Any]:
        """Keyword arguments for ``Image.save`` of an image of ``pixels`` pixels."""
        options = dict(self.options)
        if self.takes_quality:
            options["quality"] = quality
        if self.optimize_max_pixels is not None:
            options["optimize"] = pixels <= self.optimize_max_pixels
        return options


JPEG = OutputFormat(
    "jpeg", "JPEG", "image/jpeg", "jpg", alpha=False, takes_quality=True,
    optimize_max_pixels=1_000_000,
)  # fmt: skip
# zlib's run-length strategy after PNG's per-row filters: a fifth of the CPU of the
# default strategy at level 6 on photos (10 vs 52 ms for 500x375 RGBA) for files
# 1-2 % larger; libvips' default (no filter) is as fast but makes files twice as large.
PNG = OutputFormat(
    "png", "PNG", "image/png", "png", alpha=True, takes_quality=False,
    options=MappingProxyType({"compress_level": 6, "compress_type": zlib.Z_RLE}),
)  # fmt: skip
WEBP = OutputFormat(
    "webp", "WEBP", "image/webp", "webp", alpha=True, takes_quality=True,
    options=MappingProxyType({"method": 4}),
)  # fmt: skip
AVIF = OutputFormat(
    "avif", "AVIF", "image/avif", "avif", alpha=True, takes_quality=True,
    options=MappingProxyType({"speed": 8}),
)  # fmt: skip

#: Every output format, keyed by its ``OUTPUT_FORMAT`` value.
OUTPUTS: Mapping[str, OutputFormat] = MappingProxyType(
    {output.name: output for output in (JPEG, PNG, WEBP, AVIF)}
)

MANIFEST_NAME = "manifest.json"
#: The conditional claim one run takes before writing outputs (:mod:`.claim`).
CLAIM_NAME = "claim.json"
#: Every extension a file the Lambda writes may have: a re-encoded output's, or an
#: allowed input's (the ``original`` variant keeps the source's bytes and format).
FILE_EXTENSIONS: frozenset[str] = frozenset(
    [output.extension for output in OUTPUTS.values()] + [fmt.extension for fmt in ALLOWED]
)


def file_name(variant: str, blurred: bool, extension: str) -> str:
    """File name of an output under the upload's prefix, per docs/contract.md."""
    suffix = "_blur" if blurred else ""
    return f"{variant}{suffix}.{extension}"
