"""Open untrusted bytes with the one Pillow plugin :mod:`.formats` chose, pixel cap first.

Why not ``Image.open`` with ``Image.MAX_IMAGE_PIXELS`` set to the cap: that
setting is process-wide, and the local stack and the load benchmark run several
handlers as threads of one process (each may have its own cap), as does any
Django process replaying events in-process. Setting it per call would race;
setting it once would change Pillow's bomb check for the host application too.

So nothing process-wide is touched per call:

* where the size sits at a fixed place in the first bytes (PNG, GIF, WebP), it
  is checked against the cap before Pillow sees the file at all (WebP's
  decoder allocates its canvas while opening);
* the chosen plugin's opener is then called directly, which parses the header
  only; ``image.size`` is checked against the cap before anything is decoded;
* Pillow's own check still runs inside some plugins (against its unchanged
  default), and :func:`.pipeline.process` reports it as ``too_many_pixels``.
"""

from __future__ import annotations

import io
import struct

from PIL import Image, ImageFile

from . import formats
from .errors import ErrorCode, ImageError
from .formats import Format
from .once import once


@once
def _register_heif() -> None:
    """Register pillow-heif's opener the first time a HEIC arrives.

    Deferred so that a cold start that never sees a HEIC pays nothing, and so a
    deployment without pillow-heif still handles every other format.
    """
    try:
        import pillow_heif
    except ImportError:
        raise ImageError(
            ErrorCode.UNSUPPORTED_FORMAT, "HEIC/HEIF support (pillow-heif) is not installed"
        ) from None
    pillow_heif.register_heif_opener()


@once
def _register_all_plugins() -> None:
    """Import every Pillow plugin, once: WebP and AVIF are not among the common ones."""
    Image.init()


def header_size(data: bytes, fmt: Format) -> tuple[int, int] | None:
    """Width and height where the format keeps them at a fixed place; None elsewhere."""
    try:
        if fmt is formats.PNG and data[12:16] == b"IHDR":
            return struct.unpack(">II", data[16:24])
        if fmt is formats.GIF:
            return struct.unpack("<HH", data[6:10])
        if fmt is formats.WEBP:
            return _webp_size(data)
    except struct.error:  # too short: the plugin will say what is wrong
        return None
    return None


def _webp_size(data: bytes) -> tuple[int, int] | None:
    chunk = data[12:16]
    if chunk == b"VP8X" and len(data) >= 30:
        return (
            int.from_bytes(data[24:27], "little") + 1,
            int.from_bytes(data[27:30], "little") + 1,
        )
    if chunk == b"VP8 " and len(data) >= 30 and data[23:26] == b"\x9d\x01\x2a":
        width, height = struct.unpack("<HH", data[26:30])
        return width & 0x3FFF, height & 0x3FFF
    if chunk == b"VP8L" and len(data) >= 25 and data[20] == 0x2F:
        bits = int.from_bytes(data[21:25], "little")
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    return None


def check_pixels(size: tuple[int, int], max_pixels: int) -> None:
    """Raise ``too_many_pixels`` if one frame of ``size`` exceeds the cap."""
    width, height = size
    if width * height > max_pixels:
        raise ImageError(
            ErrorCode.TOO_MANY_PIXELS, f"{width}x{height} exceeds the cap of {max_pixels} pixels"
        )


def open_image(data: bytes, fmt: Format, max_pixels: int) -> ImageFile.ImageFile:
    """The image, header parsed and nothing decoded, or ImageError if over the pixel cap.

    Raises what Pillow raises for a file it cannot parse (the caller maps it to
    ``corrupt``); ``UnidentifiedImageError`` where ``Image.open`` would.
    """
    size = header_size(data, fmt)
    if size is not None:
        check_pixels(size, max_pixels)
    if fmt is formats.HEIF:
        _register_heif()
    if fmt.pillow_format not in Image.OPEN:
        Image.preinit()  # the common plugins (JPEG, PNG, GIF), as Image.open imports them
    if fmt.pillow_format not in Image.OPEN:
        _register_all_plugins()
    try:
        factory, accept = Image.OPEN[fmt.pillow_format]
    except KeyError:  # this Pillow was built without the codec (AVIF)
        raise ImageError(
            ErrorCode.UNSUPPORTED_FORMAT, f"{fmt.name} support is not installed"
        ) from None
    verdict = accept(data[:16]) if accept else True
    if not verdict or isinstance(verdict, str):  # a str: Pillow explains what is missing
        raise Image.UnidentifiedImageError(verdict or f"not a {fmt.name} file")
    try:
        image = factory(io.BytesIO(data), "")
    except TypeError as exc:  # Image.open reports these as unidentified, as we do
        raise Image.UnidentifiedImageError(str(exc)) from None
    check_pixels(image.size, max_pixels)
    return image
