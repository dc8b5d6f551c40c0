"""Real image files for the Lambda tests, generated with Pillow at test time.

Nothing binary is committed: each helper returns the bytes of a genuine file
written by Pillow (or pillow-heif), sometimes patched afterwards to be hostile.
"""

from __future__ import annotations

import io
import random
import zlib

from PIL import Image, ImageCms, ImageDraw

RED, GREEN, BLUE, YELLOW = (230, 20, 20), (20, 200, 20), (20, 20, 230), (240, 230, 20)
CAMERA_SENTINEL = "SentinelCam 9000"
COMMENT_SENTINEL = b"secret comment sentinel"
XMP_SENTINEL = b"xmp-sentinel-creator"
# The inverse of each EXIF orientation's display transform: how a camera stores
# an upright scene so that applying the orientation shows it upright again.
STORE_FOR_ORIENTATION = {
    1: None,
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_90,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_270,
}


def quadrants(width: int = 600, height: int = 400, mode: str = "RGB") -> Image.Image:
    """An upright test scene: red, green / blue, yellow quadrants (easy to check orientation)."""
    image = Image.new("RGB", (width, height))
    draw = ImageDraw.Draw(image)
    half_w, half_h = width // 2, height // 2
    draw.rectangle((0, 0, half_w - 1, half_h - 1), fill=RED)
    draw.rectangle((half_w, 0, width - 1, half_h - 1), fill=GREEN)
    draw.rectangle((0, half_h, half_w - 1, height - 1), fill=BLUE)
    draw.rectangle((half_w, half_h, width - 1, height - 1), fill=YELLOW)
    return image.convert(mode) if mode != "RGB" else image


def photo_like(width: int, height: int, seed: int = 7) -> Image.Image:
    """Gradients, hard-edged shapes and grain: detail at every scale, like a photo."""
    rng = random.Random(seed)
    base = Image.merge(
        "RGB",
        (
            Image.linear_gradient("L").resize((width, height)),
            Image.radial_gradient("L").resize((width, height)),
            Image.linear_gradient("L").rotate(90).resize((width, height)),
        ),
    )
    draw = ImageDraw.Draw(base)
    for _ in range(60):
        x, y = rng.randrange(width), rng.randrange(height)
        w, h = rng.randrange(5, width // 4), rng.randrange(5, height // 4)
        colour = tuple(rng.randrange(256) for _ in range(3))
        (draw.ellipse if rng.random() < 0.5 else draw.rectangle)((x, y, x + w, y + h), colour)
    grain = Image.effect_noise((width, height), 24).convert("RGB")
    return Image.blend(base, grain, 0.15)


def hostile_exif(orientation: int = 1) -> Image.Exif:
    """EXIF with camera make, GPS position and an orientation."""
    exif = Image.Exif()
    exif[0x010F] = CAMERA_SENTINEL  # Make
    exif[0x0110] = "Model X"
    if orientation != 1:
        exif[0x0112] = orientation
    gps = exif.get_ifd(0x8825)
    gps[1] = "N"
    gps[2] = (52.0, 22.0, 1.5)
    gps[3] = "E"
    gps[4] = (4.0, 53.0, 2.0)
    return exif


def _xmp() -> bytes:
    return (
        b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf='
        b'"http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description>'
        + XMP_SENTINEL
        + b"</rdf:Description></rdf:RDF></x:xmpmeta>"
    )


def srgb_icc() -> bytes:
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


def encode(image: Image.Image, fmt: str, **params: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **params)
    return buffer.getvalue()


def jpeg(
    image: Image.Image | None = None,
    orientation: int = 1,
    metadata: bool = True,
    trailing: bytes = b"",
    **params: object,
) -> bytes:
    """A JPEG as a camera writes it: EXIF with GPS, XMP, a comment, an ICC profile."""
    image = image if image is not None else quadrants()
    if orientation != 1:
        image = image.transpose(STORE_FOR_ORIENTATION[orientation])
    if metadata:
        params = {
            "exif": hostile_exif(orientation),
            "xmp": _xmp(),
            "comment": COMMENT_SENTINEL,
            "icc_profile": srgb_icc(),
            **params,
        }
    params.setdefault("quality", 92)
    return encode(image, "JPEG", **params) + trailing


def png(image: Image.Image, **params: object) -> bytes:
    """A PNG carrying text chunks and an eXIf chunk with GPS."""
    from PIL import PngImagePlugin

    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", COMMENT_SENTINEL.decode())
    info.add_itxt("XML:com.adobe.xmp", _xmp().decode())
    return encode(image, "PNG", pnginfo=info, exif=hostile_exif(), **params)


def frames(colours: list[tuple[int, int, int]], size: tuple[int, int] = (120, 80)) -> list:
    return [Image.new("RGB", size, colour) for colour in colours]


def animated_gif(colours: list[tuple[int, int, int]], size: tuple[int, int] = (120, 80)) -> bytes:
    first, *rest = frames(colours, size)
    return encode(
        first, "GIF", save_all=True, append_images=rest, duration=100, loop=0,
        comment=COMMENT_SENTINEL,
    )  # fmt: skip


def animated_webp(colours: list[tuple[int, int, int]], size: tuple[int, int] = (120, 80)) -> bytes:
    first, *rest = frames(colours, size)
    return encode(
        first, "WEBP", save_all=True, append_images=rest, duration=100, loop=0,
        exif=hostile_exif(), xmp=_xmp(), lossless=True,
    )  # fmt: skip


def heic(image: Image.Image) -> bytes:
    import pillow_heif

    pillow_heif.register_heif_opener()
    return encode(image, "HEIF", quality=90, exif=hostile_exif())


def png_chunk(chunk_type: bytes, payload: bytes) -> bytes:
    crc = zlib.crc32(chunk_type + payload)
    return len(payload).to_bytes(4, "big") + chunk_type + payload + crc.to_bytes(4, "big")


def png_bomb(side: int = 30_000) -> bytes:
    """A few hundred KB of PNG whose header promises ``side``² one-bit pixels."""
    header = side.to_bytes(4, "big") * 2 + bytes([1, 0, 0, 0, 0])  # 1-bit grey
    compressor = zlib.compressobj(9)
    row = bytes(1 + (side + 7) // 8)
    idat = b"".join(compressor.compress(row * 1000) for _ in range(side // 1000))
    idat += compressor.flush()
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", header)
        + png_chunk(b"IDAT", idat)
        + png_chunk(b"IEND", b"")
    )


def jpeg_claiming(width: int, height: int) -> bytes:
    """A small valid JPEG whose SOF header is patched to claim ``width`` x ``height``."""
    data = bytearray(jpeg(Image.new("RGB", (16, 16), RED), metadata=False))
    sof = data.index(b"\xff\xc0")
    data[sof + 5 : sof + 7] = height.to_bytes(2, "big")
    data[sof + 7 : sof + 9] = width.to_bytes(2, "big")
    return bytes(data)


SVG = b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>'
PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
EPS = b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 10 10\nshowpage\n%%EOF\n"
TEXT = b"This is not a photo, even though it was uploaded as holiday.jpg\n"
