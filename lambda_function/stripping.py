"""Lossless metadata removal for the original-size variant.

Re-encoding a 12 MP photo costs hundreds of milliseconds and a generation of
quality. These functions instead copy the compressed image data untouched and
drop every container segment that is not needed to display it: EXIF (camera,
GPS), XMP, IPTC, comments, thumbnails, trailing data after the image (motion
photos, MPF secondary images). Kept on purpose: ICC profiles (colour stays
right), JFIF/Adobe markers (how to interpret the colour channels) and, for
JPEG only, an Orientation-only EXIF block (browsers honour it, so the photo
displays upright without re-encoding).

Each function returns ``None`` when the file cannot be kept as it is; the
pipeline then re-encodes it.
"""

from __future__ import annotations

import re
import struct

from .errors import ErrorCode, ImageError

_TRUNCATED = "the file ends in the middle of its structure"

# JPEG markers: any 0xFF followed by something other than stuffing (00) or a restart (D0-D7).
_JPEG_MARKER = re.compile(rb"\xff[^\x00\xd0-\xd7]")
_SOF_BASELINE_OR_PROGRESSIVE = {0xC0, 0xC1, 0xC2}
_SOF_OTHER = {0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}
_JPEG_KEEP = {0xC4, 0xDB, 0xDD}  # DHT, DQT, DRI


def orientation_exif(orientation: int) -> bytes:
    """A minimal EXIF payload (``Exif\\0\\0`` + TIFF) holding only the Orientation tag."""
    # Big-endian TIFF header, one IFD with one SHORT entry, no next IFD.
    return b"Exif\x00\x00" + struct.pack(
        ">2sHI H HHIHH I", b"MM", 42, 8, 1, 0x0112, 3, 1, orientation, 0, 0
    )


def _keep_jpeg_app(marker: int, payload: bytes) -> bool:
    if marker == 0xE0:
        return payload.startswith(b"JFIF\x00")
    if marker == 0xE2:
        return payload.startswith(b"ICC_PROFILE\x00")
    if marker == 0xEE:
        return payload.startswith(b"Adobe")
    return False


def strip_jpeg(data: bytes, orientation: int) -> bytes | None:
    """Copy a baseline/progressive 8-bit RGB or grey JPEG without its metadata.

    Returns ``None`` for JPEGs browsers render unreliably (CMYK/YCCK,
    arithmetic coding, lossless, 12-bit), which the pipeline re-encodes.
    """
    out = [b"\xff\xd8"]
    position = 2
    exif_written = orientation == 1
    in_scan = False
    while True:
        if in_scan:
            match = _JPEG_MARKER.search(data, position)
            if match is None:
                raise ImageError(ErrorCode.CORRUPT, _TRUNCATED)
            out.append(data[position : match.start()])
            position = match.start()
        if position + 2 > len(data):
            raise ImageError(ErrorCode.CORRUPT, _TRUNCATED)
        if data[position] != 0xFF:
            raise ImageError(ErrorCode.CORRUPT, "JPEG segment does not start with a marker")
        marker = data[position + 1]
        if marker == 0xFF:  # fill byte before a marker
            position += 1
            continue
        if marker == 0xD9:  # EOI: anything after it is not part of this image
            out.append(b"\xff\xd9")
            return b"".join(out)
        if position + 4 > len(data):
            raise ImageError(ErrorCode.CORRUPT, _TRUNCATED)
        length = int.from_bytes(data[position + 2 : position + 4], "big")
        end = position + 2 + length
        if length < 2 or end > len(data):
            raise ImageError(ErrorCode.CORRUPT, _TRUNCATED)
        segment = data[position:end]
        payload = data[position + 4 : end]
        if marker in _SOF_OTHER:
            return None
        if marker in _SOF_BASELINE_OR_PROGRESSIVE:
            precision, components = payload[0], payload[5] if len(payload) > 5 else 0
            if precision != 8 or components not in (1, 3):
                return None
        if 0xE0 <= marker <= 0xEF:
            keep = _keep_jpeg_app(marker, payload)
        elif marker == 0xFE:  # COM
            keep = False
        elif marker in _JPEG_KEEP or marker in _SOF_BASELINE_OR_PROGRESSIVE or marker == 0xDA:
            keep = True
        else:
            # Rare markers (DNL, DHP, EXP, JPG-n): not worth trusting a browser with.
            return None
        if keep:
            if not exif_written and marker != 0xE0:
                exif = orientation_exif(orientation)
                out.append(b"\xff\xe1" + (len(exif) + 2).to_bytes(2, "big") + exif)
                exif_written = True
            out.append(segment)
        position = end
        in_scan = marker == 0xDA or in_scan


_PNG_KEEP = {
    b"IHDR", b"PLTE", b"IDAT", b"IEND", b"tRNS",
    b"iCCP", b"sRGB", b"gAMA", b"cHRM", b"sBIT", b"cICP", b"mDCV", b"cLLI",
    b"acTL", b"fcTL", b"fdAT",
}  # fmt: skip


def strip_png(data: bytes) -> bytes:
    """Copy a PNG (or APNG) keeping only chunks that affect how it looks."""
    out = [data[:8]]
    position = 8
    while True:
        if position + 12 > len(data):
            raise ImageError(ErrorCode.CORRUPT, _TRUNCATED)
        length = int.from_bytes(data[position : position + 4], "big")
        chunk_type = data[position + 4 : position + 8]
        end = position + 12 + length
        if end > len(data):
            raise ImageError(ErrorCode.CORRUPT, _TRUNCATED)
        if chunk_type in _PNG_KEEP:
            out.append(data[position:end])
        if chunk_type == b"IEND":
            return b"".join(out)
        position = end


_WEBP_KEEP = {b"VP8 ", b"VP8L", b"VP8X", b"ALPH", b"ANIM", b"ANMF", b"ICCP"}
_VP8X_EXIF_XMP = 0x08 | 0x04


def strip_webp(data: bytes) -> bytes:
    """Copy a WebP dropping EXIF/XMP/unknown chunks and clearing their VP8X flags."""
    riff_size = int.from_bytes(data[4:8], "little")
    limit = min(len(data), 8 + riff_size)
    chunks = []
    position = 12
    while position + 8 <= limit:
        fourcc = data[position : position + 4]
        size = int.from_bytes(data[position + 4 : position + 8], "little")
        end = position + 8 + size + (size & 1)
        if position + 8 + size > limit:
            raise ImageError(ErrorCode.CORRUPT, _TRUNCATED)
        if fourcc == b"VP8X" and size >= 10:
            flags = data[position + 8] & ~_VP8X_EXIF_XMP
            chunks.append(data[position : position + 8] + bytes([flags]) + data[position + 9 : end])
        elif fourcc in _WEBP_KEEP:
            chunks.append(data[position:end])
        position = end
    body = b"WEBP" + b"".join(chunks)
    return b"RIFF" + len(body).to_bytes(4, "little") + body


_GIF_KEEP_APPLICATIONS = (b"NETSCAPE2.0", b"ANIMEXTS1.0")  # loop count only


def _gif_sub_blocks_end(data: bytes, position: int) -> int:
    """Index just past a chain of GIF data sub-blocks starting at ``position``."""
    while True:
        if position >= len(data):
            raise ImageError(ErrorCode.CORRUPT, _TRUNCATED)
        size = data[position]
        position += 1 + size
        if size == 0:
            return position


def strip_gif(data: bytes) -> tuple[bytes, int]:
    """Copy a GIF without comments or foreign application blocks; count its frames.

    Counting here, without decoding, lets the pipeline check an animation's
    total pixels before Pillow touches a single frame.
    """
    if len(data) < 13:
        raise ImageError(ErrorCode.CORRUPT, _TRUNCATED)
    flags = data[10]
    position = 13 + (3 * 2 ** ((flags & 7) + 1) if flags & 0x80 else 0)
    out = [data[:position]]
    frames = 0
    while True:
        if position >= len(data):
            raise ImageError(ErrorCode.CORRUPT, _TRUNCATED)
        introducer = data[position]
        if introducer == 0x3B:  # trailer
            out.append(b"\x3b")
            return b"".join(out), frames
        if introducer == 0x2C:  # image descriptor
            if position + 10 > len(data):
                raise ImageError(ErrorCode.CORRUPT, _TRUNCATED)
            local = data[position + 9]
            header_end = position + 10 + (3 * 2 ** ((local & 7) + 1) if local & 0x80 else 0)
            end = _gif_sub_blocks_end(data, header_end + 1)  # +1: LZW minimum code size
            out.append(data[position:end])
            frames += 1
        elif introducer == 0x21:  # extension
            if position + 2 > len(data):
                raise ImageError(ErrorCode.CORRUPT, _TRUNCATED)
            label = data[position + 1]
            end = _gif_sub_blocks_end(data, position + 2)
            keep = label == 0xF9 or (
                label == 0xFF and data[position + 3 : position + 14] in _GIF_KEEP_APPLICATIONS
            )
            if keep:
                out.append(data[position:end])
        else:
            raise ImageError(ErrorCode.CORRUPT, "unknown GIF block")
        position = end
