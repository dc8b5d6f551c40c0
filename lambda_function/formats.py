"""Decide an upload's format from its first bytes, against an allow-list.

Pillow would happily guess a format itself, including EPS (which runs
Ghostscript), PDF-ish and dozens of rarely exercised decoders. Sniffing the
magic bytes first and then opening with that plugin only (:mod:`.opening`)
means untrusted bytes only ever reach the parsers we chose.

TIFF and BMP are deliberately not on the list: phones and browsers do not
produce them, browsers cannot display them, TIFF is a container for many
codecs (a large parser surface) and BMP is uncompressed (a 20 MB cap already
rules out any real photo). They fail with ``unsupported_format``.
"""

from __future__ import annotations

from dataclasses import dataclass

from .errors import ErrorCode, ImageError


@dataclass(frozen=True)
class Format:
    """An allowed input format and how Pillow opens it."""

    name: str  # reported to Django as source.format
    pillow_format: str  # the only plugin Image.open may use
    mime: str
    extension: str


JPEG = Format("JPEG", "JPEG", "image/jpeg", "jpg")
PNG = Format("PNG", "PNG", "image/png", "png")
GIF = Format("GIF", "GIF", "image/gif", "gif")
WEBP = Format("WEBP", "WEBP", "image/webp", "webp")
HEIF = Format("HEIF", "HEIF", "image/heif", "heic")
AVIF = Format("AVIF", "AVIF", "image/avif", "avif")
#: Every format an upload may be in.
ALLOWED = (JPEG, PNG, GIF, WEBP, HEIF, AVIF)

_HEIF_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"hevm", b"hevs", b"mif1"}
_AVIF_BRANDS = {b"avif", b"avis"}


def _isobmff_brands(data: bytes) -> set[bytes]:
    """Major and compatible brands of an ISO-BMFF ``ftyp`` box, or an empty set."""
    if len(data) < 16 or data[4:8] != b"ftyp":
        return set()
    box_size = int.from_bytes(data[0:4], "big")
    end = min(box_size, len(data), 4096)
    if box_size < 16:
        return set()
    brands = {data[8:12]}
    brands.update(data[offset : offset + 4] for offset in range(16, end - 3, 4))
    return brands


def sniff(data: bytes) -> Format:
    """Return the allowed format the bytes are in, or raise ``unsupported_format``."""
    if data.startswith(b"\xff\xd8\xff"):
        return JPEG
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return GIF
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return WEBP
    brands = _isobmff_brands(data)
    # AVIF files usually also list mif1, so AVIF is checked first.
    if brands & _AVIF_BRANDS:
        return AVIF
    if brands & _HEIF_BRANDS:
        return HEIF
    raise ImageError(
        ErrorCode.UNSUPPORTED_FORMAT,
        "not a JPEG, PNG, GIF, WebP, HEIC/HEIF or AVIF image (decided from the file's bytes)",
    )
