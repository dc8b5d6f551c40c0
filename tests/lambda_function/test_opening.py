"""Opening untrusted bytes: the size read from the raw header is the size Pillow reads."""

from __future__ import annotations

import pytest
from PIL import Image

from lambda_function import formats
from lambda_function.errors import ErrorCode, ImageError
from lambda_function.opening import header_size, open_image

from . import images

SIZE = (123, 45)


@pytest.mark.parametrize(
    "data",
    [
        images.png(images.quadrants(*SIZE)),
        images.encode(images.quadrants(*SIZE), "GIF"),
        images.encode(images.quadrants(*SIZE), "WEBP", quality=80),  # VP8 (lossy)
        images.encode(images.quadrants(*SIZE), "WEBP", lossless=True),  # VP8L
        images.encode(Image.new("RGBA", SIZE, (255, 0, 0, 128)), "WEBP", quality=80),  # VP8X
        images.animated_webp([images.RED, images.BLUE], size=SIZE),
    ],
    ids=["png", "gif", "webp-lossy", "webp-lossless", "webp-extended", "webp-animated"],
)
def test_header_size_matches_pillow(data: bytes) -> None:
    fmt = formats.sniff(data)
    assert header_size(data, fmt) == SIZE
    assert open_image(data, fmt, max_pixels=SIZE[0] * SIZE[1]).size == SIZE
    with pytest.raises(ImageError) as refused:
        open_image(data, fmt, max_pixels=SIZE[0] * SIZE[1] - 1)
    assert refused.value.code is ErrorCode.TOO_MANY_PIXELS


def test_formats_without_a_fixed_place_are_checked_after_the_header_is_parsed() -> None:
    data = images.jpeg_claiming(60_000, 60_000)
    assert header_size(data, formats.JPEG) is None
    with pytest.raises(ImageError) as refused:
        open_image(data, formats.JPEG, max_pixels=50_000_000)
    assert refused.value.code is ErrorCode.TOO_MANY_PIXELS


def test_opening_leaves_pillows_own_setting_alone() -> None:
    before = Image.MAX_IMAGE_PIXELS
    data = images.png(images.quadrants(300, 200))
    open_image(data, formats.PNG, max_pixels=10**9)
    with pytest.raises(ImageError):
        open_image(data, formats.PNG, max_pixels=10)
    assert before == Image.MAX_IMAGE_PIXELS


def test_a_truncated_header_is_left_to_the_plugin() -> None:
    assert header_size(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0", formats.PNG) is None
    with pytest.raises((OSError, SyntaxError)):
        open_image(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0", formats.PNG, max_pixels=100)
