"""Crafted floods of tiny structures (issue 11, "Time"), built from real Pillow files.

Each generator starts from a genuine file Pillow wrote and inserts ``count``
copies of one structure where a parser will meet them, so the file stays
otherwise valid. Tests pass a count just above the limit (fast) or the issue's
flood size (to show the refusal cost stays bounded).
"""

from __future__ import annotations

import random

from PIL import Image

from . import images
from .images import png_chunk


def _segment(marker: int, payload: bytes) -> bytes:
    return bytes([0xFF, marker]) + (len(payload) + 2).to_bytes(2, "big") + payload


def _small_jpeg(**params: object) -> bytes:
    return images.jpeg(images.photo_like(64, 48), metadata=False, **params)


def jpeg_with_segments(marker: int, payload: bytes, count: int) -> bytes:
    """A JPEG with ``count`` copies of one marker segment right after SOI."""
    data = _small_jpeg()
    return data[:2] + _segment(marker, payload) * count + data[2:]


def jpeg_exif_flood(count: int) -> bytes:
    """``count`` one-byte EXIF APP1 segments (Pillow concatenates them: quadratic)."""
    return jpeg_with_segments(0xE1, b"Exif\x00\x00\x01", count)


def _last_scan(data: bytes) -> tuple[int, int]:
    """Start and end of the last scan (its SOS segment and entropy data) before EOI."""
    start = data.rindex(b"\xff\xda")
    return start, data.rindex(b"\xff\xd9")


def jpeg_repeated_scans(count: int, image: Image.Image | None = None) -> bytes:
    """A progressive JPEG whose last (AC refinement) scan is repeated up to ``count`` scans.

    libjpeg decodes every repetition in full: the decode's cost grows with the
    scans, while the file grows only by one scan's bytes per repetition.
    """
    image = image if image is not None else images.photo_like(64, 48)
    data = images.jpeg(image, metadata=False, progressive=True)
    scans = data.count(b"\xff\xda")
    start, end = _last_scan(data)
    return data[:end] + data[start:end] * (count - scans) + data[end:]


def png_with_chunks(chunk_type: bytes, payload: bytes, count: int) -> bytes:
    """A PNG with ``count`` copies of one chunk right after IHDR."""
    data = images.encode(images.quadrants(32, 24), "PNG")
    after_ihdr = 8 + 25
    return data[:after_ihdr] + png_chunk(chunk_type, payload) * count + data[after_ihdr:]


def png_tiny_idats(count: int) -> bytes:
    """A PNG whose image data is cut into ``count`` IDAT chunks, all but the last one byte."""
    side = int((count / 3) ** 0.5) + 2  # stored (level 0) noise: ~3 bytes a pixel
    rng = random.Random(11)
    noise = Image.frombytes("RGB", (side, side), rng.randbytes(side * side * 3))
    data = images.encode(noise, "PNG", compress_level=0)
    ihdr_end = 8 + 25
    idat_start = data.index(b"IDAT") - 4
    length = int.from_bytes(data[idat_start : idat_start + 4], "big")
    stream = data[idat_start + 8 : idat_start + 8 + length]
    rest = data[idat_start + 12 + length :]
    pieces = [stream[i : i + 1] for i in range(count - 1)] + [stream[count - 1 :]]
    idats = b"".join(png_chunk(b"IDAT", piece) for piece in pieces)
    return data[:ihdr_end] + idats + rest


def gif_comment_sub_blocks(count: int) -> bytes:
    """One comment extension made of ``count`` one-byte sub-blocks."""
    data = images.encode(images.quadrants(32, 24).quantize(8), "GIF")
    comment = b"\x21\xfe" + b"\x01x" * count + b"\x00"
    return data[:-1] + comment + data[-1:]  # before the trailer


def gif_extension_blocks(count: int) -> bytes:
    """``count`` comment extension blocks of one byte each."""
    data = images.encode(images.quadrants(32, 24).quantize(8), "GIF")
    return data[:-1] + b"\x21\xfe\x01x\x00" * count + data[-1:]


def webp_unknown_chunks(count: int) -> bytes:
    """A WebP with ``count`` empty chunks of a kind WebP does not define."""
    data = images.encode(images.quadrants(32, 24), "WEBP", quality=80)
    body = data[12:] + b"JUNK\x00\x00\x00\x00" * count
    return b"RIFF" + (4 + len(body)).to_bytes(4, "little") + b"WEBP" + body


def isobmff_boxes(count: int) -> bytes:
    """An AVIF followed by ``count`` empty ``free`` boxes at the top level."""
    data = images.encode(images.quadrants(32, 24), "AVIF", quality=60)
    return data + b"\x00\x00\x00\x08free" * count
