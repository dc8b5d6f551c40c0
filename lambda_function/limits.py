"""Limits the Lambda enforces on every request and every input.

Two kinds live here, each in one place:

* request limits shared with Django (docs/contract.md, "Object metadata"):
  Django's ``async_image_upload/variants.py`` refuses the same limits before
  it signs a presigned POST; change them on both sides at once;
* structural limits on the input's own bytes (:class:`StructureLimits`),
  checked by :mod:`.structure` before Pillow sees the file. They bound the
  work a small crafted file can cause; docs/lambda.md gives the measurements
  behind each number.
"""

from __future__ import annotations

from dataclasses import dataclass

#: Largest side of a ``WxH`` variant box, in pixels.
MAX_BOX = 8192
#: Most variants one upload may ask for in ``x-amz-meta-variants``.
MAX_VARIANTS = 12
#: Largest Gaussian radius (``BLUR_RADIUS``, ``x-amz-meta-blur-radius``): beyond it a
#: blurred variant is a flat colour, and the blur's cost grows with the radius.
MAX_BLUR_RADIUS = 250
#: Longest inline placeholder (``data:`` URI) Django accepts in a callback. Ours is a
#: 16-pixel WebP of a few hundred characters; a test holds the worst case under it.
MAX_PLACEHOLDER_CHARS = 8192


@dataclass(frozen=True)
class StructureLimits:
    """How many of each structure one input may hold (``too_complex`` beyond).

    Each default is at least 5x what the largest real file measured holds
    (docs/lambda.md, "Structural limits"); a crafted flood exceeds it by
    thousands of times, so nothing real sits near a limit.
    """

    #: JPEG scans (SOS): libjpeg-turbo's progressive script writes 10, mozjpeg up to 18.
    jpeg_scans: int = 100
    #: JPEG APPn and COM segments: camera files ~10-20, extended XMP (depth maps) ~100.
    jpeg_app_segments: int = 512
    #: Every JPEG marker segment but the scans (tables, frame headers, APPn, COM).
    jpeg_segments: int = 2048
    #: APP1 ``Exif`` segments: one in every real file (Pillow concatenates them, quadratic).
    jpeg_exif_segments: int = 16
    #: Bytes of all APP1 ``Exif`` segments together (one segment holds at most 64 KiB).
    jpeg_exif_bytes: int = 1024 * 1024
    #: PNG chunks of every kind.
    png_chunks: int = 40_000
    #: PNG image data chunks (IDAT, APNG fdAT): libpng writes 8 KiB ones, 2,560 in 20 MB.
    png_data_chunks: int = 32_768
    #: PNG text chunks (tEXt, zTXt, iTXt): editors write fewer than 10.
    png_text_chunks: int = 64
    #: Other ancillary PNG chunks (gAMA, iCCP, eXIf, private ones...), APNG fcTL aside.
    png_ancillary_chunks: int = 256
    #: Frames of an animation (GIF images, APNG fcTL, WebP ANMF).
    frames: int = 10_000
    #: GIF extension blocks (a graphic control extension per frame, comments, application).
    gif_extensions: int = 20_100
    #: Sub-blocks inside GIF extensions: one per graphic control, comments, XMP, ICC.
    gif_extension_sub_blocks: int = 32_768
    #: GIF image data sub-blocks: encoders write 255-byte ones, 82,000 in 20 MB.
    gif_data_sub_blocks: int = 400_000
    #: WebP RIFF chunks besides animation frames (VP8X, ICCP, EXIF, XMP, ALPH...): at most 7.
    webp_chunks: int = 64
    #: WebP RIFF chunks of a kind the WebP container does not define.
    webp_unknown_chunks: int = 16
    #: ISO-BMFF (HEIC, AVIF) boxes, counted into the containers an image reader walks.
    isobmff_boxes: int = 8192


#: The limits the Lambda runs with.
STRUCTURE_LIMITS = StructureLimits()
