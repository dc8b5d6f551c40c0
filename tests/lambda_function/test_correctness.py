"""Inputs the world sends that used to come out wrong (issue 11, part 5)."""

from __future__ import annotations

import io
import struct
import zlib
from typing import Any

import pytest
from PIL import Image, ImageFile

from lambda_function import events
from lambda_function.errors import ErrorCode, ImageError
from lambda_function.handler import lambda_handler
from lambda_function.pipeline import Output, Spec, VariantSpec, process
from lambda_function.stripping import strip_gif, strip_jpeg, strip_png

from . import images
from .conftest import CallbackServer, FakeContext
from .test_handler import s3_event, upload
from .test_privacy import build_icc, gamma_curve, jpeg_segment

SPEC = Spec(variants=tuple(VariantSpec.parse(n) for n in ("40x40", "original")), blur_radius=0)
SRGB = ((0.4361, 0.2225, 0.0139), (0.3851, 0.7169, 0.0971), (0.1431, 0.0606, 0.7141))


def output(result: Any, name: str) -> Output:
    return next(o for o in result.outputs if o.name == name and not o.blurred)


def decoded(out: Output) -> Image.Image:
    image = Image.open(io.BytesIO(out.data))
    image.load()
    return image


# -- tRNS colour keys -----------------------------------------------------------


@pytest.mark.parametrize("mode, key", [("RGB", (10, 200, 30)), ("L", 77)])
def test_trns_colour_key_stays_transparent_in_variants(mode: str, key: Any) -> None:
    image = Image.new(mode, (80, 80), key)
    image.paste((200, 10, 10) if mode == "RGB" else 250, (0, 0, 40, 80))  # left half opaque
    source = images.encode(image, "PNG", transparency=key)
    thumbnail = decoded(output(process(source, SPEC), "40x40")).convert("RGBA")
    assert thumbnail.getpixel((35, 20))[3] == 0  # the keyed colour: see-through
    assert thumbnail.getpixel((5, 20))[3] == 255


def test_trns_key_on_16_bit_grey_stays_transparent() -> None:
    width = height = 16
    row = b"\x00" + b"".join(struct.pack(">H", 1000 if x >= 8 else 60000) for x in range(width))
    source = (
        b"\x89PNG\r\n\x1a\n"
        + images.png_chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 16, 0, 0, 0, 0))
        + images.png_chunk(b"tRNS", struct.pack(">H", 1000))
        + images.png_chunk(b"IDAT", zlib.compress(row * height))
        + images.png_chunk(b"IEND", b"")
    )
    thumbnail = decoded(output(process(source, SPEC), "40x40")).convert("RGBA")
    assert thumbnail.getpixel((2, 8)) == (233, 233, 233, 255)  # 60000 / 257
    assert thumbnail.getpixel((13, 8))[3] == 0


# -- colour profiles decided by content -----------------------------------------


def test_profile_named_srgb_with_linear_curve_is_converted() -> None:
    linear = build_icc(SRGB, gamma_curve(1.0), b"sRGB linear (gamma 1.0)")
    grey = Image.new("RGB", (64, 64), (50, 50, 50))
    tagged = process(images.encode(grey, "PNG", icc_profile=linear), SPEC)
    level = decoded(output(tagged, "40x40")).convert("RGB").getpixel((10, 10))[0]
    # linear 50/255 is sRGB ~124: a name-based check would have left it at 50
    assert 115 <= level <= 132, level


def test_real_srgb_profile_is_left_alone() -> None:
    grey = Image.new("RGB", (64, 64), (50, 50, 50))
    tagged = process(images.encode(grey, "PNG", icc_profile=images.srgb_icc()), SPEC)
    assert decoded(output(tagged, "40x40")).convert("RGB").getpixel((10, 10))[0] == 50


# -- what the stripper cannot parse is re-encoded, not "corrupt" -----------------


def _plain_jpeg() -> bytes:
    return images.encode(images.quadrants(120, 80), "JPEG", quality=90)


def _pillow_decodes(data: bytes) -> bool:
    try:
        Image.open(io.BytesIO(data)).load()
    except OSError:
        return False
    return True


@pytest.mark.parametrize(
    "make",
    [
        lambda d: d[:20] + b"JUNK" + d[20:],  # junk between segments (after JFIF APP0)
        lambda d: d[: d.index(b"\xff\xda")] + b"\x00junk" + d[d.index(b"\xff\xda") :],
        lambda d: d[:2] + jpeg_segment(0xEE, b"Adobe\x00\x64") + d[2:],  # truncated APP14
    ],
    ids=["junk-between", "junk-before-scan", "truncated-app14"],
)
def test_jpeg_the_stripper_cannot_parse_is_reencoded(make: Any) -> None:
    source = make(_plain_jpeg())
    assert _pillow_decodes(source)
    assert strip_jpeg(source, 1) is None
    result = process(source, SPEC)
    original = output(result, "original")
    assert original.content_type == "image/jpeg"
    assert decoded(original).size == (120, 80)


def _gif(size: tuple[int, int] = (40, 30)) -> bytes:
    return images.animated_gif([images.RED, images.GREEN], size)


@pytest.mark.parametrize(
    "make",
    [
        lambda d: d[:-1],  # no trailer
        lambda d: d[:-1] + b"\x00\x00\x3b",  # stray bytes where a block should start
        lambda d: _odd_gce(d),
    ],
    ids=["no-trailer", "stray-bytes", "odd-graphic-control"],
)
def test_gif_with_odd_extents_is_reencoded(make: Any) -> None:
    source = make(_gif())
    assert _pillow_decodes(source)
    assert strip_gif(source)[0] is None
    result = process(source, SPEC)
    assert output(result, "original").content_type == "image/png"  # GIF → still PNG
    assert decoded(output(result, "40x40")).size == (40, 30)


def _odd_gce(data: bytes) -> bytes:
    """A graphic control extension with a 5-byte block (the standard says 4)."""
    at = data.index(b"\x21\xf9\x04")
    return data[:at] + b"\x21\xf9\x05" + data[at + 3 : at + 7] + b"\x00" + data[at + 7 :]


def test_gif_frame_larger_than_its_screen_is_kept() -> None:
    data = bytearray(_gif((40, 30)))
    data[6:10] = struct.pack("<HH", 20, 15)  # logical screen smaller than the frames
    result = process(bytes(data), SPEC)
    assert output(result, "original").content_type in ("image/gif", "image/png")


# -- animations with an orientation --------------------------------------------


def _oriented_animation(fmt: str) -> bytes:
    exif = Image.Exif()
    exif[0x0112] = 6
    frames = images.frames([images.RED, images.GREEN, images.BLUE], (60, 30))
    return images.encode(
        frames[0], fmt, save_all=True, append_images=frames[1:], duration=80, loop=0,
        exif=exif.tobytes(),
    )  # fmt: skip


@pytest.mark.parametrize("fmt, mime", [("WEBP", "image/webp"), ("PNG", "image/png")])
def test_animation_with_orientation_keeps_its_frames_upright(fmt: str, mime: str) -> None:
    source = _oriented_animation(fmt)
    assert Image.open(io.BytesIO(source)).getexif().get(0x0112) == 6
    original = output(process(source, SPEC), "original")
    assert original.content_type == mime
    kept = Image.open(io.BytesIO(original.data))
    assert kept.n_frames == 3
    assert kept.size == (30, 60)  # turned upright
    assert not kept.getexif().get(0x0112)
    colours = []
    for index in range(3):
        kept.seek(index)
        colours.append(kept.convert("RGB").getpixel((15, 30)))
    for got, want in zip(colours, [images.RED, images.GREEN, images.BLUE], strict=True):
        assert all(abs(a - b) <= 6 for a, b in zip(got, want, strict=True)), colours


def test_apng_without_fctl_gives_an_original_pillow_decodes() -> None:
    plain = images.encode(Image.new("RGB", (20, 20), images.RED), "PNG")
    source = plain[:33] + images.png_chunk(b"acTL", struct.pack(">II", 2, 0)) + plain[33:]
    stripped = strip_png(source)
    assert stripped is not None and b"acTL" not in stripped
    original = decoded(output(process(source, SPEC), "original"))
    assert getattr(original, "n_frames", 1) == 1
    assert original.convert("RGB").getpixel((5, 5)) == images.RED


# -- truncated data is corrupt, never padded ----------------------------------


def test_tiny_jpeg_claiming_a_huge_frame_is_corrupt() -> None:
    source = images.jpeg_claiming(65500, 700)
    assert len(source) < 700
    with pytest.raises(ImageError) as raised:
        process(source, Spec(variants=(VariantSpec.parse("400x400"),)))
    assert raised.value.code is ErrorCode.CORRUPT
    assert ImageFile.LOAD_TRUNCATED_IMAGES is False


def test_jpeg_cut_short_is_corrupt() -> None:
    source = _plain_jpeg()
    with pytest.raises(ImageError) as raised:
        process(source[: len(source) // 2], SPEC)
    assert raised.value.code is ErrorCode.CORRUPT


# -- events -----------------------------------------------------------------


def test_record_without_s3_is_skipped_after_the_good_ones(
    s3: Any, bucket: str, callback_server: CallbackServer, context: FakeContext
) -> None:
    upload_id = upload(s3, bucket, images.jpeg())
    event = s3_event(bucket, f"temp/{upload_id}")
    event["Records"].append({"eventName": "ObjectCreated:Put", "eventSource": "aws:s3"})
    event["Records"].append({"eventName": "ObjectCreated:Put", "s3": {"bucket": {}}})
    result = lambda_handler(event, context)
    assert result == {"records": 3, "outcomes": ["ready", "skipped", "skipped"]}
    assert len(callback_server.payloads()) == 1


def test_eventbridge_s3_event_is_processed(
    s3: Any, bucket: str, callback_server: CallbackServer, context: FakeContext
) -> None:
    upload_id = upload(s3, bucket, images.jpeg())
    event = {
        "version": "0",
        "id": "17793124-05d4-b198-2fde-7ededc63b103",
        "detail-type": "Object Created",
        "source": "aws.s3",
        "account": "123456789012",
        "time": "2021-11-12T00:00:00Z",
        "region": "us-east-1",
        "resources": [f"arn:aws:s3:::{bucket}"],
        "detail": {
            "version": "0",
            "bucket": {"name": bucket},
            "object": {"key": f"temp/{upload_id}", "size": 5, "etag": "b1946ac9"},
            "request-id": "N4N7GDK58NMKJ12R",
            "requester": "123456789012",
            "reason": "PostObject",
        },
    }
    assert lambda_handler(event, context) == {"records": 1, "outcomes": ["ready"]}
    (payload,) = callback_server.payloads()
    assert payload["upload_id"] == upload_id and payload["status"] == "ready"


def test_eventbridge_other_detail_types_and_unknown_shapes_are_logged(
    capsys: pytest.CaptureFixture[str], lambda_env: dict[str, str], context: FakeContext
) -> None:
    deleted = {"source": "aws.s3", "detail-type": "Object Deleted", "detail": {}}
    assert events.records(deleted) == [{"eventName": "other"}]
    assert lambda_handler(deleted, context)["outcomes"] == ["skipped"]
    assert lambda_handler({"something": "else"}, context) == {"records": 0, "outcomes": []}
    assert '"reason": "no_s3_records"' in capsys.readouterr().out.replace('":"', '": "')
