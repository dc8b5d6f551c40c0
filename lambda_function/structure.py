"""Count an input's structures before Pillow parses it; refuse floods (``too_complex``).

A few hundred kilobytes can hold millions of empty structures: one-byte EXIF
segments (Pillow concatenates them, quadratic), empty COM segments, PNG
private chunks, GIF comment sub-blocks, unknown WebP chunks, or a progressive
JPEG whose scan is repeated 20,000 times (each scan is a full pass of the
decoder). Each costs the parsers seconds to a minute; no byte or pixel cap
sees them. So every structure is counted here, in one linear pass over the
raw bytes, and the pass stops at the first count over its limit
(:class:`.limits.StructureLimits`): the cost of refusing a flood is bounded by
the limit, not by the flood.

Only counting happens here. A structure this pass cannot follow (a truncated
chunk, a bad length) ends the walk quietly: judging damaged files is the
parsers' job and they report ``corrupt``.
"""

from __future__ import annotations

import re
from collections import Counter

from . import formats
from .errors import ErrorCode, ImageError
from .formats import Format
from .limits import STRUCTURE_LIMITS, StructureLimits

# What each counted structure is called in the error message.
_DESCRIPTIONS = {
    "jpeg_scans": "scans (SOS segments)",
    "jpeg_app_segments": "APPn/COM segments",
    "jpeg_segments": "marker segments",
    "jpeg_exif_segments": "EXIF (APP1) segments",
    "jpeg_exif_bytes": "bytes of EXIF (APP1) segments",
    "png_chunks": "chunks",
    "png_data_chunks": "image data chunks (IDAT/fdAT)",
    "png_text_chunks": "text chunks (tEXt/zTXt/iTXt)",
    "png_ancillary_chunks": "ancillary chunks",
    "frames": "frames",
    "gif_extensions": "extension blocks",
    "gif_extension_sub_blocks": "extension sub-blocks",
    "gif_data_sub_blocks": "image data sub-blocks",
    "webp_chunks": "RIFF chunks besides frames",
    "webp_unknown_chunks": "unknown RIFF chunks",
    "isobmff_boxes": "boxes",
}

# A marker inside entropy-coded data: 0xFF then neither stuffing (00) nor a restart (D0-D7).
# Searched in C, so a scan's bytes cost no Python loop.
_JPEG_MARKER = re.compile(rb"\xff[^\x00\xd0-\xd7]")
_JPEG_STANDALONE = {0x01, *range(0xD0, 0xD8)}  # TEM, RSTn: no length field
_PNG_TEXT = {b"tEXt", b"zTXt", b"iTXt"}
_PNG_ANIMATION = {b"acTL", b"fcTL"}
_PNG_DATA = {b"IDAT", b"fdAT"}
_WEBP_KNOWN = {b"VP8 ", b"VP8L", b"VP8X", b"ALPH", b"ANIM", b"ANMF", b"ICCP", b"EXIF", b"XMP "}
# ISO-BMFF boxes whose payload is more boxes (after ``skip`` bytes of their own fields).
_ISOBMFF_CONTAINERS = {
    b"meta": 4, b"iprp": 0, b"ipco": 0, b"iinf": 6, b"iref": 4, b"dinf": 0, b"grpl": 0,
    b"moov": 0, b"trak": 0, b"mdia": 0, b"minf": 0, b"stbl": 0, b"edts": 0, b"udta": 0,
}  # fmt: skip


class _Tally:
    """Counts per structure; raises ``too_complex`` the moment one passes its limit."""

    def __init__(self, fmt: Format, limits: StructureLimits) -> None:
        self.fmt = fmt
        self.limits = limits
        self.counts: Counter[str] = Counter()

    def add(self, kind: str, amount: int = 1) -> None:
        self.counts[kind] += amount
        limit: int = getattr(self.limits, kind)
        if self.counts[kind] > limit:
            raise ImageError(
                ErrorCode.TOO_COMPLEX,
                f"the {self.fmt.name} file has more than {limit} {_DESCRIPTIONS[kind]}",
            )


def check_structure(data: bytes, fmt: Format, limits: StructureLimits = STRUCTURE_LIMITS) -> None:
    """Raise ``too_complex`` if ``data`` holds more of any structure than ``limits`` allow."""
    count_structures(data, fmt, limits)


def count_structures(
    data: bytes, fmt: Format, limits: StructureLimits = STRUCTURE_LIMITS
) -> Counter[str]:
    """The structures ``data`` holds, per kind (measurement for docs/lambda.md and tests)."""
    tally = _Tally(fmt, limits)
    walker = _WALKERS.get(fmt.name)
    if walker is not None:
        walker(data, tally)
    return tally.counts


def _walk_jpeg(data: bytes, tally: _Tally) -> None:
    position = 2  # after SOI
    in_scan = False
    end = len(data)
    while position + 2 <= end:
        if in_scan:
            match = _JPEG_MARKER.search(data, position)
            if match is None:
                return
            position = match.start()
            in_scan = False
        if data[position] != 0xFF:
            return
        marker = data[position + 1]
        if marker == 0xFF:  # fill byte
            position += 1
            continue
        if marker == 0xD9:  # EOI
            return
        if marker in _JPEG_STANDALONE:
            position += 2
            continue
        if position + 4 > end:
            return
        length = int.from_bytes(data[position + 2 : position + 4], "big")
        if length < 2:
            return
        if marker == 0xDA:
            tally.add("jpeg_scans")
            in_scan = True
        else:
            tally.add("jpeg_segments")
            if 0xE0 <= marker <= 0xEF or marker == 0xFE:
                tally.add("jpeg_app_segments")
            if marker == 0xE1 and data.startswith(b"Exif\x00\x00", position + 4):
                tally.add("jpeg_exif_segments")
                tally.add("jpeg_exif_bytes", length - 2)
        position += 2 + length


def _walk_png(data: bytes, tally: _Tally) -> None:
    position = 8  # after the signature
    end = len(data)
    while position + 8 <= end:
        length = int.from_bytes(data[position : position + 4], "big")
        chunk_type = data[position + 4 : position + 8]
        tally.add("png_chunks")
        if chunk_type in _PNG_DATA:
            tally.add("png_data_chunks")
        elif chunk_type == b"fcTL":
            tally.add("frames")
        elif chunk_type in _PNG_TEXT:
            tally.add("png_text_chunks")
        elif chunk_type[0] & 0x20 and chunk_type not in _PNG_ANIMATION:
            tally.add("png_ancillary_chunks")  # lower-case first letter: ancillary
        if chunk_type == b"IEND":
            return
        position += 12 + length


def _gif_sub_blocks(data: bytes, position: int, tally: _Tally, kind: str) -> int:
    """Count the sub-blocks starting at ``position``; return the offset after the terminator."""
    end = len(data)
    while position < end:
        size = data[position]
        position += 1
        if size == 0:
            return position
        tally.add(kind)
        position += size
    return end


def _walk_gif(data: bytes, tally: _Tally) -> None:
    if len(data) < 13:
        return
    position = 13  # header and logical screen descriptor
    flags = data[10]
    if flags & 0x80:
        position += 3 << ((flags & 0x07) + 1)  # global colour table
    end = len(data)
    while position < end:
        introducer = data[position]
        if introducer == 0x21 and position + 1 < end:  # extension
            tally.add("gif_extensions")
            position = _gif_sub_blocks(data, position + 2, tally, "gif_extension_sub_blocks")
        elif introducer == 0x2C and position + 10 <= end:  # image descriptor
            tally.add("frames")
            flags = data[position + 9]
            position += 10
            if flags & 0x80:
                position += 3 << ((flags & 0x07) + 1)  # local colour table
            position = _gif_sub_blocks(data, position + 1, tally, "gif_data_sub_blocks")
        else:  # trailer (0x3B) or bytes this walk cannot follow
            return


def _walk_webp(data: bytes, tally: _Tally) -> None:
    position = 12  # after RIFF, size, WEBP
    end = min(len(data), 8 + int.from_bytes(data[4:8], "little"))
    while position + 8 <= end:
        fourcc = data[position : position + 4]
        size = int.from_bytes(data[position + 4 : position + 8], "little")
        if fourcc == b"ANMF":
            tally.add("frames")
        else:
            tally.add("webp_chunks")
            if fourcc not in _WEBP_KNOWN:
                tally.add("webp_unknown_chunks")
        position += 8 + size + (size & 1)


def _walk_isobmff(data: bytes, tally: _Tally) -> None:
    # An explicit stack instead of recursion: nesting depth is the file's to choose.
    pending = [(0, len(data))]
    while pending:
        position, end = pending.pop()
        while position + 8 <= end:
            size = int.from_bytes(data[position : position + 4], "big")
            box_type = data[position + 4 : position + 8]
            header = 8
            if size == 1 and position + 16 <= end:
                size = int.from_bytes(data[position + 8 : position + 16], "big")
                header = 16
            elif size == 0:
                size = end - position  # to the end of the enclosing box
            if size < header:
                break
            tally.add("isobmff_boxes")
            skip = _ISOBMFF_CONTAINERS.get(box_type)
            if skip is not None:
                if box_type == b"iinf" and position + header < end and data[position + header]:
                    skip = 8  # version 1 and later: a 32-bit entry count
                pending.append((position + header + skip, min(position + size, end)))
            position += size


_WALKERS = {
    formats.JPEG.name: _walk_jpeg,
    formats.PNG.name: _walk_png,
    formats.GIF.name: _walk_gif,
    formats.WEBP.name: _walk_webp,
    formats.HEIF.name: _walk_isobmff,
    formats.AVIF.name: _walk_isobmff,
}
