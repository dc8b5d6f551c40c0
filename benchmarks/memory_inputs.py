"""Large images in every accepted format, generated quickly (no committed blobs).

Shared by the memory benchmark and ``tests/lambda_function/test_memory_budget.py``.
Content is low-resolution noise scaled up into 32-pixel blocks: every codec
has to decode every pixel, yet a 49 MP PNG or WebP with alpha stays under the
20 MB upload cap (flat blocks compress well), as the offenders in issue 11 did.
"""

from __future__ import annotations

import io

from PIL import Image, ImageCms


def scene(size: tuple[int, int], mode: str = "RGB") -> Image.Image:
    """A photo-like image of ``size`` in ``mode`` (RGB, RGBA, L, I;16, CMYK)."""
    small = (max(1, size[0] // 32), max(1, size[1] // 32))
    channels = [
        Image.effect_noise(small, 60 + 10 * index).resize(size, Image.Resampling.NEAREST)
        for index in range(3)
    ]
    image = Image.merge("RGB", channels)
    if mode == "RGBA":
        alpha = Image.linear_gradient("L").resize(size)
        image.putalpha(alpha)
        return image
    if mode == "L":
        return channels[0]
    if mode == "I;16":
        return channels[0].convert("I").point(lambda value: value * 257).convert("I;16")
    return image.convert(mode) if mode != "RGB" else image


def wide_gamut_icc() -> bytes:
    """An RGB ICC profile the pipeline must convert (its description does not say sRGB).

    Display P3 itself is not built into LittleCMS; the memory cost of the
    transform is the same for any RGB-to-sRGB profile.
    """
    data = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    return data.replace(b"sRGB", b"P3ph").replace(
        "sRGB".encode("utf-16-be"), "P3ph".encode("utf-16-be")
    )


def encode(image: Image.Image, fmt: str, **options: object) -> bytes:
    """``image`` saved as ``fmt`` (pillow-heif registered for HEIF)."""
    if fmt == "HEIF":
        import pillow_heif

        pillow_heif.register_heif_opener()
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def exif_with_orientation(orientation: int) -> bytes:
    exif = Image.Exif()
    exif[0x0112] = orientation
    return exif.tobytes()


def jpeg(size: tuple[int, int], mode: str = "RGB", orientation: int = 1) -> bytes:
    exif = exif_with_orientation(orientation) if orientation != 1 else b""
    return encode(scene(size, mode), "JPEG", quality=85, exif=exif)


def png(size: tuple[int, int], mode: str = "RGB") -> bytes:
    return encode(scene(size, mode), "PNG", compress_level=1)


def webp(size: tuple[int, int], mode: str = "RGB", frames: int = 1) -> bytes:
    image = scene(size, mode)
    if frames == 1:
        return encode(image, "WEBP", quality=80)  # method 0 with alpha makes 1 byte a pixel
    others = [image.rotate(180 * (index % 2)) for index in range(1, frames)]
    return encode(
        image, "WEBP", quality=60, method=0, save_all=True, append_images=others, duration=100
    )


def heif(size: tuple[int, int], icc: bytes | None = None) -> bytes:
    options: dict[str, object] = {"quality": 50}
    if icc:
        options["icc_profile"] = icc
    return encode(scene(size), "HEIF", **options)


def avif(size: tuple[int, int], flat: bool = False) -> bytes:
    """AVIF of ``size``; ``flat`` makes a one-colour image: a few hundred bytes for any size."""
    image = Image.new("RGB", size, (120, 30, 200)) if flat else scene(size)
    return encode(image, "AVIF", quality=50, speed=10)


def gif(size: tuple[int, int]) -> bytes:
    # A fixed palette without dithering: fast at 49 MP, and it compresses.
    return encode(scene(size).convert("P", dither=Image.Dither.NONE), "GIF")
