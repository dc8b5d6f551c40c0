"""The pure pipeline on real files: right variants or the right error code, quickly."""

from __future__ import annotations

import io
import os
import statistics
import time

import pytest
from PIL import Image, ImageChops, ImageDraw, ImageFilter, ImageStat

from lambda_function.errors import ErrorCode, ImageError
from lambda_function.pipeline import Output, Result, Spec, VariantSpec, blur_reduction, process

from . import images
from .conftest import assert_clean, shown
from .images import BLUE, GREEN, RED, YELLOW


def by_key(result: Result) -> dict[tuple[str, bool], Output]:
    return {(output.name, output.blurred): output for output in result.outputs}


def close(actual: tuple[int, ...], expected: tuple[int, ...], tolerance: int = 40) -> bool:
    return all(abs(a - e) <= tolerance for a, e in zip(actual, expected, strict=False))


def assert_upright(image: Image.Image) -> None:
    """The quadrant scene reads red, green / blue, yellow from the top left."""
    width, height = image.size
    samples = [
        image.getpixel((width // 4, height // 4)),
        image.getpixel((3 * width // 4, height // 4)),
        image.getpixel((width // 4, 3 * height // 4)),
        image.getpixel((3 * width // 4, 3 * height // 4)),
    ]
    for sample, expected in zip(samples, (RED, GREEN, BLUE, YELLOW), strict=True):
        assert close(sample, expected), (samples, image.size)


def assert_fail(data: bytes, spec: Spec, code: ErrorCode) -> None:
    started = time.perf_counter()
    with pytest.raises(ImageError) as caught:
        process(data, spec)
    assert caught.value.code is code, caught.value
    assert time.perf_counter() - started < 2.0


# -- orientation and metadata ---------------------------------------------------


@pytest.mark.parametrize("orientation", range(1, 9))
def test_every_exif_orientation_displays_upright(spec: Spec, orientation: int) -> None:
    result = process(images.jpeg(orientation=orientation), spec)
    assert (result.width, result.height) == (600, 400)
    outputs = by_key(result)
    assert [(o.name, o.blurred) for o in result.outputs] == [
        (name, blurred)
        for name in ("50x50", "100x100", "400x400", "original")
        for blurred in (False, True)
    ]
    for key, output in outputs.items():
        assert_clean(output)
        picture = shown(output)
        assert picture.size == (output.width, output.height)
        if key != ("original", True):  # blurred quadrants are still quadrants, but fuzzy
            assert_upright(picture)
    assert (outputs[("400x400", False)].width, outputs[("400x400", False)].height) == (400, 267)
    assert outputs[("50x50", False)].width == 50


def test_lossless_original_keeps_pixels_and_drops_the_rest(spec: Spec) -> None:
    source = images.jpeg(orientation=6, trailing=b"\xff\xd8 appended motion photo")
    original = by_key(process(source, spec))[("original", False)]
    assert original.content_type == "image/jpeg"
    assert b"motion photo" not in original.data
    decoded_source = Image.open(io.BytesIO(source))
    decoded_original = Image.open(io.BytesIO(original.data))
    assert decoded_source.info["icc_profile"]
    # An sRGB profile (by its numbers) is dropped: untagged means sRGB (docs/lambda.md).
    assert "icc_profile" not in decoded_original.info
    assert dict(decoded_original.getexif()) == {0x0112: 6}
    assert ImageChops.difference(decoded_source, decoded_original).getbbox() is None
    assert (original.width, original.height) == (600, 400)  # as displayed, upright


def test_progressive_jpeg_original_stays_progressive(spec: Spec) -> None:
    source = images.jpeg(progressive=True)
    original = by_key(process(source, spec))[("original", False)]
    decoded = Image.open(io.BytesIO(original.data))
    assert decoded.info.get("progressive") == 1
    assert ImageChops.difference(decoded, Image.open(io.BytesIO(source))).getbbox() is None


# -- colour modes -----------------------------------------------------------------


def test_cmyk_jpeg_is_converted_to_rgb_everywhere(spec: Spec) -> None:
    cmyk = Image.new("CMYK", (300, 200), (0, 255, 255, 0))  # pure red ink
    result = process(images.jpeg(cmyk, metadata=False), spec)
    for output in result.outputs:
        image = Image.open(io.BytesIO(output.data))
        assert image.mode == "RGB"
        red, green, blue = image.getpixel((image.width // 2, image.height // 2))
        assert red > 200 and green < 80 and blue < 80


def test_grayscale_jpeg_stays_grey(spec: Spec) -> None:
    result = process(images.jpeg(images.quadrants(mode="L")), spec)
    for output in result.outputs:
        assert Image.open(io.BytesIO(output.data)).mode == "L"


def test_16_bit_png_is_scaled_not_clipped(spec: Spec) -> None:
    deep = Image.new("I;16", (200, 100), 32_768)
    result = process(images.png(deep), spec)
    thumbnail = Image.open(io.BytesIO(by_key(result)[("100x100", False)].data))
    assert thumbnail.mode == "L"
    assert abs(thumbnail.getpixel((50, 25)) - 127) <= 2


def test_palette_png_with_transparency_keeps_it(spec: Spec) -> None:
    palette = Image.new("P", (200, 100), 0)
    palette.putpalette([255, 0, 0] + [0, 0, 255] * 255)
    palette.paste(1, (100, 0, 200, 100))
    result = process(images.png(palette, transparency=0), spec)
    outputs = by_key(result)
    thumbnail = Image.open(io.BytesIO(outputs[("100x100", False)].data)).convert("RGBA")
    assert thumbnail.getpixel((10, 25))[3] == 0
    assert close(thumbnail.getpixel((90, 25)), (0, 0, 255, 255))
    original = outputs[("original", False)]
    assert original.content_type == "image/png"
    assert Image.open(io.BytesIO(original.data)).mode == "P"
    for output in result.outputs:
        assert_clean(output)


def test_rgba_png_resizes_without_dark_fringes(spec: Spec) -> None:
    rgba = Image.new("RGBA", (400, 400), (0, 0, 0, 0))
    rgba.paste((255, 255, 255, 255), (100, 100, 300, 300))
    result = process(images.png(rgba), spec)
    for key in (("100x100", False), ("100x100", True)):
        image = Image.open(io.BytesIO(by_key(result)[key].data))
        assert image.mode == "RGBA"
        # Edge pixels are partly transparent but still white, not grey.
        for x in range(20, 80):
            red, green, blue, alpha = image.getpixel((x, 25))
            if alpha > 10:
                assert min(red, green, blue) >= 240, (x, image.getpixel((x, 25)))


def cutout_png(key: tuple[int, int, int]) -> tuple[bytes, tuple[int, int, int]]:
    """A real RGBA PNG: an orange, grainy disc with a soft edge on a transparent ground.

    The transparent pixels keep a loud ``key`` colour, as editors do after a
    cut-out (straight alpha: the colour under alpha 0 is whatever was there).
    Returns the file and the subject's colour.
    """
    subject = (230, 120, 30)
    size = (800, 600)
    grain = Image.effect_noise(size, 12).point(lambda value: value - 128 + 8)
    colour = Image.merge(
        "RGB", [ImageChops.add(Image.new("L", size, c), grain, offset=-8) for c in subject]
    )
    mask = Image.new("L", size, 0)
    ImageDraw.Draw(mask).ellipse((150, 100, 650, 500), fill=255)
    mask = mask.filter(ImageFilter.GaussianBlur(3))
    rgba = Image.composite(colour, Image.new("RGB", size, key), mask.point(lambda a: 255 * (a > 0)))
    rgba.putalpha(mask)
    return images.png(rgba), subject


@pytest.mark.parametrize("key", [(0, 0, 0), (0, 255, 0)], ids=["black", "green"])
def test_rgba_png_blurs_without_a_halo_or_fringe(spec: Spec, key: tuple[int, int, int]) -> None:
    """Issue 13: a transparent PNG's blurred version showed a blurred halo around it.

    The blur must keep the shape (alpha) of the sharp version of the same size,
    so transparent areas stay transparent, and the visible pixels along the
    edge keep the subject's colour: neither the key colour nor darkness of
    the transparent pixels may bleed in.
    """
    data, subject = cutout_png(key)
    outputs = by_key(process(data, spec))
    for name in ("400x400", "original"):
        blurred = Image.open(io.BytesIO(outputs[(name, True)].data))
        assert blurred.mode == "RGBA", name
        sharp = Image.open(io.BytesIO(outputs[(name, False)].data)).convert("RGBA")
        if sharp.size != blurred.size:  # the blurred original is stored smaller
            sharp = sharp.resize(blurred.size, Image.Resampling.LANCZOS)
        alpha_difference = ImageChops.difference(blurred.getchannel("A"), sharp.getchannel("A"))
        assert alpha_difference.getextrema()[1] <= 8, (name, alpha_difference.getextrema())
        # Nothing visible where the sharp version is transparent: no halo.
        halo = [
            value
            for value, shape in zip(
                blurred.getchannel("A").tobytes(), sharp.getchannel("A").tobytes(), strict=True
            )
            if shape == 0 and value > 4
        ]
        assert not halo, (name, len(halo))
        # The edge band: visible but not opaque pixels, where a straight-alpha blur mixes
        # in the key colour. Their colour is the subject's, to within JPEG-free rounding.
        band = [
            pixel[:3]
            for pixel in zip(*map(Image.Image.tobytes, blurred.split()), strict=True)
            if 64 <= pixel[3] < 250
        ]
        assert len(band) > 100, (name, len(band))
        for channel, expected in enumerate(subject):
            mean = statistics.fmean(pixel[channel] for pixel in band)
            worst = max(abs(pixel[channel] - expected) for pixel in band)
            assert abs(mean - expected) <= 6, (name, channel, mean, expected)
            assert worst <= 30, (name, channel, worst, expected)


def test_opaque_rgba_is_treated_as_opaque(spec: Spec) -> None:
    result = process(images.png(images.quadrants(mode="RGBA")), spec)
    assert Image.open(io.BytesIO(by_key(result)[("50x50", False)].data)).mode == "RGB"


def test_forced_jpeg_output_flattens_alpha_on_the_background() -> None:
    rgba = Image.new("RGBA", (100, 100), (0, 0, 0, 0))
    spec = Spec(
        variants=(VariantSpec.parse("50x50"),), output_format="jpeg", background=(0, 255, 0)
    )
    result = process(images.png(rgba), spec)
    image = Image.open(io.BytesIO(result.outputs[0].data))
    assert result.outputs[0].content_type == "image/jpeg"
    assert close(image.getpixel((25, 25)), (0, 255, 0), 10)


# -- animation, HEIC, AVIF --------------------------------------------------------


def test_animated_gif_keeps_animation_in_original_and_first_frame_elsewhere(spec: Spec) -> None:
    source = images.animated_gif([RED, GREEN, BLUE])
    result = process(source, spec)
    assert result.frames == 3
    outputs = by_key(result)
    original = Image.open(io.BytesIO(outputs[("original", False)].data))
    assert original.format == "GIF" and original.n_frames == 3
    assert "comment" not in original.info
    still = Image.open(io.BytesIO(outputs[("100x100", False)].data))
    assert still.format == "PNG"
    assert close(still.convert("RGB").getpixel((10, 10)), RED)
    for output in result.outputs:
        assert_clean(output)


def test_animated_webp_keeps_animation_in_original(spec: Spec) -> None:
    result = process(images.animated_webp([GREEN, RED]), spec)
    outputs = by_key(result)
    original = Image.open(io.BytesIO(outputs[("original", False)].data))
    assert original.format == "WEBP" and original.n_frames == 2
    still = Image.open(io.BytesIO(outputs[("400x400", False)].data)).convert("RGB")
    assert close(still.getpixel((10, 10)), GREEN)
    for output in result.outputs:
        assert_clean(output)


def test_heic_becomes_jpeg(spec: Spec) -> None:
    pytest.importorskip("pillow_heif")
    result = process(images.heic(images.quadrants()), spec)
    assert result.format == "HEIF"
    for output in result.outputs:
        assert output.content_type == "image/jpeg"
        assert_clean(output)
    assert_upright(shown(by_key(result)[("original", False)]))


def test_avif_becomes_jpeg(spec: Spec) -> None:
    result = process(images.encode(images.quadrants(), "AVIF", quality=90), spec)
    assert result.format == "AVIF"
    original = by_key(result)[("original", False)]
    assert original.content_type == "image/jpeg"
    assert_upright(shown(original))


# -- sizes ------------------------------------------------------------------------


def test_one_pixel_image(spec: Spec) -> None:
    result = process(images.jpeg(Image.new("RGB", (1, 1), RED)), spec)
    assert {(o.width, o.height) for o in result.outputs} == {(1, 1)}


def test_very_wide_image_keeps_at_least_one_pixel(spec: Spec) -> None:
    result = process(images.png(Image.new("RGB", (10_000, 10), BLUE)), spec)
    outputs = by_key(result)
    assert (outputs[("400x400", False)].width, outputs[("400x400", False)].height) == (400, 1)
    assert (outputs[("50x50", True)].width, outputs[("50x50", True)].height) == (50, 1)


def test_small_images_are_never_upscaled(spec: Spec) -> None:
    result = process(images.jpeg(images.quadrants(80, 60)), spec)
    assert (
        by_key(result)[("400x400", False)].width,
        by_key(result)[("400x400", False)].height,
    ) == (
        80,
        60,
    )


def test_custom_boxes_and_no_blur() -> None:
    spec = Spec(variants=(VariantSpec.parse("200x50"),), blur_radius=0)
    result = process(images.jpeg(), spec)
    assert [(o.name, o.blurred, o.width, o.height) for o in result.outputs] == [
        ("200x50", False, 75, 50)
    ]


def test_placeholder_is_a_tiny_data_uri(spec: Spec) -> None:
    result = process(images.jpeg(images.photo_like(1200, 900)), spec)
    assert result.placeholder.startswith("data:image/webp;base64,")
    assert len(result.placeholder) < 400


def test_blurred_original_at_reduced_size_matches_full_resolution_blur(spec: Spec) -> None:
    upright = images.photo_like(2000, 1500)
    source = images.jpeg(upright, metadata=False, quality=95)
    blurred = by_key(process(source, spec))[("original", True)]
    assert (blurred.display_width, blurred.display_height) == (2000, 1500)
    assert blurred.width < 400
    stored = Image.open(io.BytesIO(blurred.data)).convert("RGB")
    upscaled = stored.resize((2000, 1500), Image.Resampling.BICUBIC)
    truth = Image.open(io.BytesIO(source)).convert("RGB").filter(ImageFilter.GaussianBlur(20))
    mean_abs_diff = sum(ImageStat.Stat(ImageChops.difference(upscaled, truth)).mean) / 3
    assert mean_abs_diff <= 2.0, mean_abs_diff  # the bound the issue sets: 2/255


def test_blur_reduction_grows_with_radius() -> None:
    assert blur_reduction(1) == 1
    assert blur_reduction(20) == 8


def test_large_jpeg_is_decoded_at_reduced_scale_by_draft(
    spec: Spec, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A 12 MP JPEG is decoded by libjpeg at 1/8 scale, never at full size.

    What makes it fast is *how much* is decoded, so that is what this checks (a
    spy around Pillow's real ``draft``; speed itself is measured in benchmarks/,
    never by a wall clock in a test).
    """
    from PIL import JpegImagePlugin

    decoded: list[tuple[int, int]] = []
    real_draft = JpegImagePlugin.JpegImageFile.draft

    def spy(self, mode, size):  # type: ignore[no-untyped-def]
        result = real_draft(self, mode, size)
        decoded.append(self.size)
        return result

    monkeypatch.setattr(JpegImagePlugin.JpegImageFile, "draft", spy)
    source = images.jpeg(images.photo_like(4000, 3000), metadata=False, quality=90)
    result = process(source, spec)
    assert (result.width, result.height) == (4000, 3000)
    assert decoded == [(500, 375)], decoded  # 1/8: still >= the largest resized variant
    largest = max(o.width for o in result.outputs if o.name != "original")
    assert largest <= 500


# -- rejections -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"", ErrorCode.EMPTY),
        (os.urandom(4096), ErrorCode.UNSUPPORTED_FORMAT),
        (images.TEXT, ErrorCode.UNSUPPORTED_FORMAT),
        (images.SVG, ErrorCode.UNSUPPORTED_FORMAT),
        (images.PDF, ErrorCode.UNSUPPORTED_FORMAT),
        (images.EPS, ErrorCode.UNSUPPORTED_FORMAT),
    ],
    ids=["empty", "random", "text-named-jpg", "svg", "pdf", "eps"],
)
def test_not_an_allowed_image(spec: Spec, data: bytes, code: ErrorCode) -> None:
    assert_fail(data, spec, code)


@pytest.mark.parametrize("fmt", ["TIFF", "BMP"])
def test_tiff_and_bmp_are_refused_by_design(spec: Spec, fmt: str) -> None:
    assert_fail(images.encode(images.quadrants(), fmt), spec, ErrorCode.UNSUPPORTED_FORMAT)


def test_truncated_jpeg_is_corrupt(spec: Spec) -> None:
    source = images.jpeg(images.photo_like(800, 600), metadata=False)
    assert_fail(source[: len(source) // 2], spec, ErrorCode.CORRUPT)


def test_truncated_png_is_corrupt(spec: Spec) -> None:
    source = images.png(images.photo_like(300, 200))
    assert_fail(source[: len(source) - 200], spec, ErrorCode.CORRUPT)


def test_header_claiming_65000_square_is_refused_before_decoding(spec: Spec) -> None:
    assert_fail(images.jpeg_claiming(65_000, 65_000), spec, ErrorCode.TOO_MANY_PIXELS)


def test_small_png_that_decodes_to_a_gigapixel_is_refused(spec: Spec) -> None:
    bomb = images.png_bomb()
    assert len(bomb) < 1_000_000
    assert_fail(bomb, spec, ErrorCode.TOO_MANY_PIXELS)


def test_pillow_bomb_check_follows_our_cap() -> None:
    spec = Spec(variants=(VariantSpec.parse("50x50"),), max_pixels=10_000)
    assert_fail(images.jpeg(images.quadrants(200, 100)), spec, ErrorCode.TOO_MANY_PIXELS)
    assert Image.MAX_IMAGE_PIXELS != 10_000  # restored afterwards


def test_bytes_over_the_cap_are_too_large() -> None:
    spec = Spec(variants=(VariantSpec.parse("50x50"),), max_bytes=1000)
    assert_fail(images.jpeg(), spec, ErrorCode.TOO_LARGE)


def test_long_animation_is_refused_before_decoding_frames() -> None:
    spec = Spec(variants=(VariantSpec.parse("50x50"),), max_animation_pixels=100 * 80 * 5)
    gif = images.animated_gif([RED, GREEN] * 5, size=(100, 80))
    assert_fail(gif, spec, ErrorCode.ANIMATION_TOO_LARGE)
