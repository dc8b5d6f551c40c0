"""Nothing personal in any output: thumbnails, trailing bytes, comments, profile text.

Every input is built here, carrying a sentinel in each place a camera, an editor
or an attacker can hide data; no output may contain any of them.
"""

from __future__ import annotations

import io
import struct
import zlib

import pytest
from PIL import Image, ImageChops, ImageCms

from lambda_function import icc
from lambda_function.pipeline import Output, Spec, VariantSpec, process
from lambda_function.stripping import strip_gif, strip_jpeg, strip_png, strip_webp

from . import images

OWNER = b"Owner: Jane Doe, GPS 52.5N 13.4E"
HIDDEN = b"HIDDEN-PAYLOAD-" * 4000  # 60 KB of "arbitrary bytes" in a private tag
SENTINELS = (OWNER, b"Jane Doe", b"HIDDEN-PAYLOAD", b"THUMBNAIL-BYTES", b"ADOBE-TRAILER",
             b"AFTER-THE-END", b"GIF-SECRET", images.COMMENT_SENTINEL)  # fmt: skip
SPEC = Spec(variants=tuple(VariantSpec.parse(n) for n in ("100x100", "original")))
# Display P3 primaries adapted to D50, and sRGB's tone curve as a parametric curve.
P3 = ((0.5151, 0.2412, -0.0011), (0.2920, 0.6922, 0.0419), (0.1571, 0.0666, 0.7841))
SRGB = ((0.4361, 0.2225, 0.0139), (0.3851, 0.7169, 0.0971), (0.1431, 0.0606, 0.7141))


def _s15(value: float) -> bytes:
    return round(value * 65536).to_bytes(4, "big", signed=True)


def xyz(values: tuple[float, float, float]) -> bytes:
    return b"XYZ " + bytes(4) + b"".join(_s15(v) for v in values)


def srgb_curve() -> bytes:
    params = (2.4, 1 / 1.055, 0.055 / 1.055, 1 / 12.92, 0.04045)
    return b"para" + bytes(4) + struct.pack(">H2x", 3) + b"".join(_s15(p) for p in params)


def gamma_curve(gamma: float) -> bytes:
    return b"curv" + bytes(4) + struct.pack(">IH", 1, round(gamma * 256))


def text_tag(text: bytes) -> bytes:
    return b"text" + bytes(4) + text + b"\x00"


def build_icc(primaries=P3, curve: bytes | None = None, description: bytes = OWNER) -> bytes:
    """An RGB matrix/TRC profile with personal text in desc, cprt and a private tag."""
    curve = curve if curve is not None else srgb_curve()
    tags = {
        b"desc": b"desc" + bytes(4) + struct.pack(">I", len(description) + 1) + description
        + b"\x00" + bytes(12) + bytes(67),
        b"cprt": text_tag(b"Copyright " + OWNER),
        b"wtpt": xyz((0.9642, 1.0, 0.8249)),
        b"rXYZ": xyz(primaries[0]), b"gXYZ": xyz(primaries[1]), b"bXYZ": xyz(primaries[2]),
        b"rTRC": curve, b"gTRC": curve, b"bTRC": curve,
        b"priv": HIDDEN,
    }  # fmt: skip
    table, body = b"", b""
    offset = 128 + 4 + 12 * len(tags)
    for signature, data in tags.items():
        table += signature + struct.pack(">II", offset + len(body), len(data))
        body += data + bytes(-len(data) % 4)
    header = bytearray(128)
    header[0:4] = (offset + len(body)).to_bytes(4, "big")
    header[4:8] = b"JANE"  # preferred CMM
    header[8:12] = (0x02100000).to_bytes(4, "big")
    header[12:24] = b"mntrRGB XYZ "
    header[36:40] = b"acsp"
    header[48:56] = b"DOE-CAM1"  # device manufacturer and model
    header[68:80] = b"".join(_s15(v) for v in (0.9642, 1.0, 0.8249))
    header[80:84] = b"JANE"  # creator
    return bytes(header) + struct.pack(">I", len(tags)) + table + body


def jpeg_segment(marker: int, payload: bytes) -> bytes:
    return bytes([0xFF, marker]) + (len(payload) + 2).to_bytes(2, "big") + payload


def hostile_jpeg() -> bytes:
    """A JPEG with a JFIF thumbnail, a JFXX thumbnail, a long APP14, COM and trailing bytes."""
    plain = images.encode(images.quadrants(), "JPEG", quality=90, icc_profile=build_icc())
    thumbnail = b"THUMBNAIL-BYTES" * 2  # 2x5 RGB thumbnail = 30 bytes
    jfif = b"JFIF\x00\x01\x02\x01\x00\x48\x00\x48" + bytes([5, 2]) + thumbnail
    jfxx = b"JFXX\x00\x13" + b"THUMBNAIL-BYTES" * 4
    adobe = b"Adobe\x00\x64\x00\x00\x00\x00\x01" + b"ADOBE-TRAILER"
    rest = plain[2:]
    if rest.startswith(b"\xff\xe0"):  # drop Pillow's own JFIF; ours replaces it
        rest = rest[2 + int.from_bytes(rest[2:4], "big") :]
    return (
        b"\xff\xd8"
        + jpeg_segment(0xE0, jfif)
        + jpeg_segment(0xE0, jfxx)
        + jpeg_segment(0xEE, adobe)
        + jpeg_segment(0xFE, images.COMMENT_SENTINEL)
        + rest
        + b"AFTER-THE-END"
    )


def assert_nothing_personal(outputs: tuple[Output, ...]) -> None:
    for output in outputs:
        for sentinel in SENTINELS:
            assert sentinel not in output.data, (output.name, output.blurred, sentinel)
        with Image.open(io.BytesIO(output.data)) as image:
            assert (
                not {"comment", "xmp", "exif", "XML:com.adobe.xmp", "Comment"} & set(image.info)
                or output.name == "original"
            )
            profile = image.info.get("icc_profile")
            if profile:
                description = ImageCms.getProfileDescription(
                    ImageCms.ImageCmsProfile(io.BytesIO(profile))
                )
                assert description.strip() == icc.DESCRIPTION


def jpeg_segments(data: bytes) -> list[tuple[int, bytes]]:
    """The header segments of a JPEG up to SOS."""
    found, position = [], 2
    while data[position + 1] != 0xDA:
        marker = data[position + 1]
        length = int.from_bytes(data[position + 2 : position + 4], "big")
        found.append((marker, data[position + 4 : position + 2 + length]))
        position += 2 + length
    return found


def test_jpeg_original_keeps_scan_and_colour_only() -> None:
    source = hostile_jpeg()
    result = process(source, SPEC)
    assert_nothing_personal(result.outputs)
    original = next(o for o in result.outputs if o.name == "original" and not o.blurred)
    assert original.data.endswith(b"\xff\xd9")
    segments = jpeg_segments(original.data)
    app0 = [payload for marker, payload in segments if marker == 0xE0]
    assert app0 == [b"JFIF\x00\x01\x02\x01\x00\x48\x00\x48\x00\x00"]  # thumbnail 0x0
    assert [p for m, p in segments if m == 0xEE] == [b"Adobe\x00\x64\x00\x00\x00\x00\x01"]
    assert not [m for m, _ in segments if m == 0xFE or m in (0xE1, 0xE3, 0xED)]
    with Image.open(io.BytesIO(original.data)) as kept, Image.open(io.BytesIO(source)) as src:
        assert ImageChops.difference(kept.convert("RGB"), src.convert("RGB")).getbbox() is None
        rebuilt = icc.parse(kept.info["icc_profile"])
        assert rebuilt is not None
        assert set(rebuilt.tags) == {b"wtpt", b"rXYZ", b"gXYZ", b"bXYZ", b"rTRC", b"gTRC", b"bTRC"}
        assert rebuilt.tags == icc.parse(src.info["icc_profile"]).tags  # same colour data
        assert len(kept.info["icc_profile"]) < 1000  # not the 60 KB
        assert kept.info["icc_profile"][4:8] == bytes(4)  # no CMM, creator, device
        assert kept.info["icc_profile"][48:56] == bytes(8)


def test_rebuilt_profile_converts_colours_like_the_original() -> None:
    original = ImageCms.ImageCmsProfile(io.BytesIO(build_icc()))
    parsed = icc.parse(build_icc())
    assert parsed is not None
    rebuilt = ImageCms.ImageCmsProfile(io.BytesIO(icc.rebuild(parsed)))
    srgb = ImageCms.createProfile("sRGB")
    pixels = images.photo_like(64, 64)
    by_original = ImageCms.profileToProfile(pixels, original, srgb)
    by_rebuilt = ImageCms.profileToProfile(pixels, rebuilt, srgb)
    assert ImageChops.difference(by_original, by_rebuilt).getbbox() is None


def test_srgb_profile_is_dropped_whatever_its_name() -> None:
    tagged = images.encode(images.quadrants(), "JPEG", icc_profile=build_icc(SRGB, None, OWNER))
    stripped = strip_jpeg(tagged, 1)
    assert stripped is not None and b"ICC_PROFILE" not in stripped and OWNER not in stripped


def test_profile_that_cannot_be_rebuilt_reencodes_the_original() -> None:
    cmyk_like = bytearray(build_icc())
    cmyk_like[16:20] = b"Lab "  # not RGB/grey matrix-TRC: only lcms can use it
    source = images.encode(images.quadrants(), "JPEG", icc_profile=bytes(cmyk_like))
    assert strip_jpeg(source, 1) is None
    result = process(source, SPEC)
    assert_nothing_personal(result.outputs)


def test_png_profile_name_text_chunks_and_trailing_bytes_go() -> None:
    name = b"Jane Doe"
    iccp = images.png_chunk(b"iCCP", name + b"\x00\x00" + zlib.compress(build_icc()))
    plain = images.png(images.quadrants(mode="RGBA"))
    source = plain[:33] + iccp + plain[33:] + b"AFTER-THE-END"
    result = process(source, SPEC)
    assert_nothing_personal(result.outputs)
    original = next(o for o in result.outputs if o.name == "original" and not o.blurred)
    assert original.data == strip_png(source)
    with Image.open(io.BytesIO(original.data)) as kept:
        assert icc.parse(kept.info["icc_profile"]) == icc.parse(build_icc())
        assert not {"Comment", "XML:com.adobe.xmp", "exif"} & set(kept.info)


def riff_chunk(fourcc: bytes, payload: bytes) -> bytes:
    return fourcc + len(payload).to_bytes(4, "little") + payload + bytes(len(payload) & 1)


def test_webp_profile_unknown_chunks_and_frame_sub_chunks_go() -> None:
    animated = images.animated_webp([images.RED, images.GREEN])
    chunks, position = [], 12
    while position + 8 <= len(animated):
        size = int.from_bytes(animated[position + 4 : position + 8], "little")
        fourcc, payload = (
            animated[position : position + 4],
            animated[position + 8 : position + 8 + size],
        )
        if fourcc == b"ANMF":
            payload += riff_chunk(b"JANE", b"GIF-SECRET")  # an unknown chunk inside a frame
        if fourcc == b"VP8X":
            payload = bytes([payload[0] | 0x20]) + payload[1:]
        chunks.append(riff_chunk(fourcc, payload))
        if fourcc == b"VP8X":
            chunks.append(riff_chunk(b"ICCP", build_icc()))
            chunks.append(riff_chunk(b"XYZW", b"GIF-SECRET"))
        position += 8 + size + (size & 1)
    body = b"WEBP" + b"".join(chunks)
    source = b"RIFF" + len(body).to_bytes(4, "little") + body + b"AFTER-THE-END"
    stripped = strip_webp(source)
    assert stripped is not None
    for sentinel in SENTINELS:
        assert sentinel not in stripped
    with Image.open(io.BytesIO(stripped)) as kept:
        assert kept.n_frames == 2
        assert icc.parse(kept.info["icc_profile"]) == icc.parse(build_icc())
    assert_nothing_personal(process(source, SPEC).outputs)


def test_gif_keeps_only_the_standard_loop_block() -> None:
    plain = images.animated_gif([images.RED, images.GREEN, images.BLUE])
    netscape = b"\x21\xff\x0bNETSCAPE2.0"
    at = plain.index(netscape)
    loop_end = plain.index(b"\x00", at + len(netscape) + 4) + 1  # the standard block
    extra = b"\x21\xff\x0bNETSCAPE2.0\x03\x01\x05\x00\x0aGIF-SECRET\x00"
    comment = b"\x21\xfe\x0aGIF-SECRET\x00"
    text = b"\x21\x01\x0c" + bytes(12) + b"\x0aGIF-SECRET\x00"
    xmp = b"\x21\xff\x0bXMP DataXMP\x0aGIF-SECRET\x00"
    source = plain[:at] + extra + comment + text + xmp + plain[loop_end:] + b"AFTER-THE-END"
    stripped, frames = strip_gif(source)
    assert frames == 3 and stripped is not None
    assert stripped.count(b"NETSCAPE2.0") == 1
    assert b"NETSCAPE2.0\x03\x01\x05\x00\x00" in stripped  # the first loop count, standard form
    assert stripped.endswith(b"\x3b")
    assert_nothing_personal(process(source, SPEC).outputs)


@pytest.mark.parametrize(
    "make",
    [hostile_jpeg, lambda: images.png(images.quadrants()), lambda: images.heic(images.quadrants())],
    ids=["jpeg", "png", "heic"],
)
def test_reencoded_variants_carry_no_metadata(make) -> None:
    result = process(make(), SPEC)
    for output in result.outputs:
        if output.name == "original" and not output.blurred:
            continue
        with Image.open(io.BytesIO(output.data)) as image:
            assert "icc_profile" not in image.info and "exif" not in image.info
            assert not getattr(image, "text", {})
            assert not {"comment", "xmp", "XML:com.adobe.xmp"} & set(image.info)
    assert_nothing_personal(result.outputs)


def test_grey_gamma_profile_is_rebuilt_and_is_not_srgb() -> None:
    tags = {b"kTRC": gamma_curve(2.2), b"wtpt": xyz((0.9642, 1.0, 0.8249))}
    profile = icc.Profile(b"GRAY", 0, tags)
    rebuilt = icc.rebuild(profile)
    assert icc.parse(rebuilt) == profile and not icc.is_srgb(rebuilt)
    source = images.encode(Image.new("L", (32, 32), 90), "JPEG", icc_profile=rebuilt)
    stripped = strip_jpeg(source, 1)
    assert stripped is not None
    with Image.open(io.BytesIO(stripped)) as kept:
        assert icc.parse(kept.info["icc_profile"]) == profile
