"""Format sniffing and the lossless strippers, on real files."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from lambda_function import formats
from lambda_function.errors import ErrorCode, ImageError
from lambda_function.stripping import orientation_exif, strip_gif, strip_jpeg, strip_png, strip_webp

from . import images
from .images import CAMERA_SENTINEL, COMMENT_SENTINEL, XMP_SENTINEL, quadrants


@pytest.mark.parametrize(
    ("data", "name"),
    [
        (images.jpeg(), "JPEG"),
        (images.png(quadrants()), "PNG"),
        (images.animated_gif([images.RED]), "GIF"),
        (images.encode(quadrants(), "WEBP"), "WEBP"),
        (images.encode(quadrants(), "AVIF"), "AVIF"),
    ],
)
def test_sniff_from_bytes(data: bytes, name: str) -> None:
    assert formats.sniff(data).name == name


def test_sniff_heic() -> None:
    pytest.importorskip("pillow_heif")
    assert formats.sniff(images.heic(quadrants())).name == "HEIF"


@pytest.mark.parametrize("data", [images.SVG, images.PDF, images.EPS, images.TEXT, b"RIFF1234WAVE"])
def test_sniff_refuses_everything_else(data: bytes) -> None:
    with pytest.raises(ImageError) as caught:
        formats.sniff(data)
    assert caught.value.code is ErrorCode.UNSUPPORTED_FORMAT


def _no_metadata(data: bytes) -> None:
    assert CAMERA_SENTINEL.encode() not in data
    assert XMP_SENTINEL not in data
    assert COMMENT_SENTINEL not in data


def test_orientation_exif_is_read_back_by_pillow() -> None:
    exif = Image.Exif()
    exif.load(orientation_exif(6))
    assert dict(exif) == {0x0112: 6}


def test_strip_jpeg_keeps_the_scan_untouched() -> None:
    source = images.jpeg(images.photo_like(300, 200), orientation=3, progressive=True)
    stripped = strip_jpeg(source, 3)
    assert stripped is not None
    _no_metadata(stripped)
    assert Image.open(io.BytesIO(stripped)).tobytes() == Image.open(io.BytesIO(source)).tobytes()


def test_strip_jpeg_declines_cmyk() -> None:
    assert strip_jpeg(images.jpeg(Image.new("CMYK", (8, 8)), metadata=False), 1) is None


def test_strip_png_drops_text_and_exif_keeps_pixels() -> None:
    source = images.png(quadrants(mode="RGBA"))
    stripped = strip_png(source)
    _no_metadata(stripped)
    assert b"eXIf" not in stripped
    assert Image.open(io.BytesIO(stripped)).tobytes() == Image.open(io.BytesIO(source)).tobytes()


def test_strip_webp_clears_exif_and_xmp() -> None:
    source = images.animated_webp([images.RED, images.BLUE])
    stripped = strip_webp(source)
    _no_metadata(stripped)
    image = Image.open(io.BytesIO(stripped))
    assert image.n_frames == 2 and "exif" not in image.info


def test_strip_gif_counts_frames_and_drops_comments() -> None:
    stripped, frames = strip_gif(images.animated_gif([images.RED, images.GREEN, images.BLUE]))
    assert frames == 3
    _no_metadata(stripped)
    assert Image.open(io.BytesIO(stripped)).n_frames == 3
