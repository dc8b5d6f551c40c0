"""Structural limits: floods of tiny structures are refused (``too_complex``) before any parser.

Three layers: real files of every format pass far below the limits; every
class of flood just above its limit ends ``failed``/``too_complex`` through
the real handler (moto S3 over HTTP, a real callback endpoint); and every
class at the size the issue reported is refused after counting at most the
limit, however large the flood (bounded by counting, not by timing).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from lambda_function import formats, structure
from lambda_function.errors import ErrorCode, ImageError
from lambda_function.handler import lambda_handler
from lambda_function.limits import STRUCTURE_LIMITS as LIMITS
from lambda_function.structure import check_structure, count_structures

from . import hostile, images
from .conftest import CallbackServer, FakeContext
from .test_handler import s3_event, upload

# Each class of flood: the generator, the limit it crosses, and the size the issue measured.
FLOODS: dict[str, tuple[Callable[[int], bytes], int, int]] = {
    "jpeg-repeated-scans": (hostile.jpeg_repeated_scans, LIMITS.jpeg_scans, 20_000),
    "jpeg-exif-1-byte": (hostile.jpeg_exif_flood, LIMITS.jpeg_exif_segments, 1_900_000),
    "jpeg-empty-app5": (
        lambda n: hostile.jpeg_with_segments(0xE5, b"", n), LIMITS.jpeg_app_segments, 5_000_000
    ),
    "jpeg-empty-com": (
        lambda n: hostile.jpeg_with_segments(0xFE, b"", n), LIMITS.jpeg_app_segments, 5_000_000
    ),
    "jpeg-empty-dqt-like-tables": (
        lambda n: hostile.jpeg_with_segments(0xDD, b"\x00\x00", n), LIMITS.jpeg_segments, 5_000_000
    ),
    "gif-comment-sub-blocks": (
        hostile.gif_comment_sub_blocks, LIMITS.gif_extension_sub_blocks, 5_000_000
    ),
    "gif-extension-blocks": (hostile.gif_extension_blocks, LIMITS.gif_extensions, 2_000_000),
    "png-private-chunks": (
        lambda n: hostile.png_with_chunks(b"prVt", b"", n), LIMITS.png_ancillary_chunks, 1_700_000
    ),
    "png-text-chunks": (
        lambda n: hostile.png_with_chunks(b"tEXt", b"k\x00v", n), LIMITS.png_text_chunks, 950_000
    ),
    "png-1-byte-idats": (hostile.png_tiny_idats, LIMITS.png_data_chunks, 530_000),
    "webp-unknown-chunks": (hostile.webp_unknown_chunks, LIMITS.webp_unknown_chunks, 2_600_000),
    "isobmff-boxes": (hostile.isobmff_boxes, LIMITS.isobmff_boxes, 2_000_000),
}  # fmt: skip


def _counts(data: bytes) -> dict[str, int]:
    return dict(count_structures(data, formats.sniff(data)))


def test_real_files_stay_far_below_every_limit() -> None:
    """Pillow's and pillow-heif's own files, with camera-like metadata, use a fraction."""
    photo = images.photo_like(640, 480)
    files = [
        images.jpeg(photo, orientation=6),
        images.jpeg(photo, progressive=True),
        images.png(images.quadrants(mode="RGBA")),
        images.animated_gif([images.RED, images.GREEN] * 3),
        images.animated_webp([images.RED, images.GREEN, images.BLUE]),
        images.encode(photo, "AVIF", quality=60),
        images.heic(photo),
    ]
    for data in files:
        counts = _counts(data)
        assert counts  # the walk understood the file
        for kind, count in counts.items():
            assert count * 5 <= getattr(LIMITS, kind), (kind, count)
        check_structure(data, formats.sniff(data))


def test_a_progressive_jpeg_has_ten_scans_and_limit_is_ten_times_that() -> None:
    data = images.jpeg(images.photo_like(320, 240), progressive=True, metadata=False)
    assert _counts(data)["jpeg_scans"] == 10
    assert LIMITS.jpeg_scans >= 10 * 10


@pytest.mark.parametrize("name", FLOODS)
def test_a_flood_below_the_limit_passes_and_just_above_is_refused(name: str) -> None:
    make, limit, _ = FLOODS[name]
    below = make(limit - 50)  # the base file holds a few structures of its own
    check_structure(below, formats.sniff(below))
    above = make(limit + 1)
    with pytest.raises(ImageError) as refused:
        check_structure(above, formats.sniff(above))
    assert refused.value.code is ErrorCode.TOO_COMPLEX
    assert str(limit) in refused.value.message


@pytest.mark.parametrize("name", FLOODS)
def test_a_flood_at_the_reported_size_is_refused_after_counting_to_the_limit(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The walk stops at the first count over a limit: its work does not grow with the flood."""
    make, limit, flood_size = FLOODS[name]
    data = make(flood_size)
    counted: list[str] = []
    original_add = structure._Tally.add

    def add(self: Any, kind: str, amount: int = 1) -> None:
        counted.append(kind)
        original_add(self, kind, amount)

    monkeypatch.setattr(structure._Tally, "add", add)
    with pytest.raises(ImageError) as refused:
        check_structure(data, formats.sniff(data))
    assert refused.value.code is ErrorCode.TOO_COMPLEX
    # Each structure is counted once or a few times (e.g. a segment and an APPn segment).
    assert len(counted) <= 3 * (limit + 1) + 100


def test_truncated_or_odd_structures_end_the_walk_quietly() -> None:
    """Judging a damaged file is the decoders' job (``corrupt``): counting never raises."""
    for data in (
        images.jpeg()[:100],
        images.png(images.quadrants())[:50],
        images.animated_gif([images.RED])[:20],
        images.animated_webp([images.RED])[:30],
    ):
        check_structure(data, formats.sniff(data))
    ftyp = b"\x00\x00\x00\x14ftypavif\x00\x00\x00\x00avif"
    for tail in (b"\x00\x00\x00\x01mdat", b"\x00\x00\x00\x04meta", b"\x00\x00\x00\x00mdat"):
        check_structure(ftyp + tail, formats.AVIF)


@pytest.mark.parametrize("name", FLOODS)
def test_every_flood_ends_failed_too_complex_through_the_handler(
    name: str, s3: Any, bucket: str, callback_server: CallbackServer, context: FakeContext
) -> None:
    make, limit, _ = FLOODS[name]
    upload_id = upload(s3, bucket, make(limit + 1))
    result = lambda_handler(s3_event(bucket, f"temp/{upload_id}"), context)

    assert result["outcomes"] == ["failed"]
    (payload,) = callback_server.payloads()
    assert payload["status"] == "failed"
    assert payload["error"]["code"] == "too_complex"
    manifest = s3.get_object(Bucket=bucket, Key=f"image/{upload_id}/manifest.json")
    assert json.loads(manifest["Body"].read())["callback"] == payload
