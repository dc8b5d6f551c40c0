"""Lossless metadata removal for the original-size variant.

Re-encoding a 12 MP photo costs hundreds of milliseconds and a generation of
quality. These functions instead copy the compressed image data untouched and
rebuild the container around it with only what is needed to display it. Nothing
personal survives: no EXIF (camera, GPS), XMP, IPTC, comments, text chunks,
embedded thumbnails (JFIF/JFXX), private or unknown segments, trailing data
(motion photos, MPF secondary images, anything after EOI/IEND/the RIFF size/the
GIF trailer). What is kept is rebuilt, not copied:

* JPEG: the JFIF APP0 with a 0x0 thumbnail, the standard 12 bytes of Adobe
  APP14 (colour transform), an Orientation-only EXIF block (browsers honour
  it, so the photo displays upright without re-encoding);
* a colour profile only as its colour data (:mod:`.icc`): dropped if it is
  sRGB, rebuilt from its colour tags otherwise;
* GIF: the graphic control blocks (delays, transparency) and the NETSCAPE2.0
  loop count, each rewritten in its standard form.

Each function returns ``None`` when the file cannot be kept this way (an
unusual structure, a profile that cannot be rebuilt); the pipeline then
re-encodes it, and Pillow decides whether it is readable at all.
"""

from __future__ import annotations

import re
import struct
import zlib

from . import icc

# JPEG markers: any 0xFF followed by something other than stuffing (00) or a restart (D0-D7).
_JPEG_MARKER = re.compile(rb"\xff[^\x00\xd0-\xd7]")
_SOF_BASELINE_OR_PROGRESSIVE = {0xC0, 0xC1, 0xC2}
_SOF_OTHER = {0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}
_JPEG_KEEP = {0xC4, 0xDB, 0xDD}  # DHT, DQT, DRI
_ICC_JPEG = b"ICC_PROFILE\x00"
_ICC_CHUNK = 65535 - 2 - len(_ICC_JPEG) - 2
_ADOBE_LENGTH = 12  # "Adobe", version, flags0, flags1, transform
_JFIF_LENGTH = 14  # "JFIF\0", version, units, densities; then the thumbnail size (0x0 here)
_MAX_ICC = 4 * 1024 * 1024


def orientation_exif(orientation: int) -> bytes:
    """A minimal EXIF payload (``Exif\\0\\0`` + TIFF) holding only the Orientation tag."""
    # Big-endian TIFF header, one IFD with one SHORT entry, no next IFD.
    return b"Exif\x00\x00" + struct.pack(
        ">2sHI H HHIHH I", b"MM", 42, 8, 1, 0x0112, 3, 1, orientation, 0, 0
    )


def _segment(marker: int, payload: bytes) -> bytes:
    return bytes([0xFF, marker]) + (len(payload) + 2).to_bytes(2, "big") + payload


def _jpeg_app(marker: int, payload: bytes) -> bytes | None:
    """The rebuilt form of an APPn segment worth keeping, ``b""`` to drop it, None to give up."""
    if marker == 0xE0 and payload.startswith(b"JFIF\x00"):
        if len(payload) < _JFIF_LENGTH - 2:
            return None
        return _segment(0xE0, payload[: _JFIF_LENGTH - 2] + b"\x00\x00")  # no thumbnail
    if marker == 0xEE and payload.startswith(b"Adobe"):
        if len(payload) < _ADOBE_LENGTH:
            return None  # truncated: the colour transform is unknown
        return _segment(0xEE, payload[:_ADOBE_LENGTH])
    return b""


def _icc_segments(chunks: list[tuple[int, int, bytes]]) -> bytes | None:
    """APP2 segments for the profile split over ``chunks``: rebuilt, empty, or None."""
    chunks.sort()
    total = chunks[0][1]
    if [seq for seq, _, _ in chunks] != list(range(1, total + 1)):
        return None
    if any(count != total for _, count, _ in chunks):
        return None
    profile = icc.for_output(b"".join(data for _, _, data in chunks))
    if profile is None:
        return None
    pieces = [profile[i : i + _ICC_CHUNK] for i in range(0, len(profile), _ICC_CHUNK)]
    return b"".join(
        _segment(0xE2, _ICC_JPEG + bytes([number, len(pieces)]) + piece)
        for number, piece in enumerate(pieces, 1)
    )


def strip_jpeg(data: bytes, orientation: int) -> bytes | None:
    """Copy a baseline/progressive 8-bit RGB or grey JPEG with a rebuilt header.

    Returns ``None`` for JPEGs browsers render unreliably (CMYK/YCCK,
    arithmetic coding, lossless, 12-bit) and for any structure this walk does
    not expect (bytes between segments, a truncated APP14 or file): the
    pipeline re-encodes those from what Pillow decodes.
    """
    out: list[bytes] = [b"\xff\xd8"]
    icc_chunks: list[tuple[int, int, bytes]] = []
    icc_at: int | None = None
    position = 2
    exif_written = orientation == 1
    in_scan = False
    while True:
        if in_scan:
            match = _JPEG_MARKER.search(data, position)
            if match is None:
                return None
            out.append(data[position : match.start()])
            position = match.start()
        if position + 2 > len(data) or data[position] != 0xFF:
            return None
        marker = data[position + 1]
        if marker == 0xFF:  # fill byte before a marker
            position += 1
            continue
        if marker == 0xD9:  # EOI: anything after it is not part of this image
            break
        if position + 4 > len(data):
            return None
        length = int.from_bytes(data[position + 2 : position + 4], "big")
        end = position + 2 + length
        if length < 2 or end > len(data):
            return None
        payload = data[position + 4 : end]
        if marker in _SOF_OTHER:
            return None
        if marker in _SOF_BASELINE_OR_PROGRESSIVE:
            precision, components = payload[0], payload[5] if len(payload) > 5 else 0
            if precision != 8 or components not in (1, 3):
                return None
        kept: bytes | None
        if marker == 0xE2 and payload.startswith(_ICC_JPEG):
            if len(payload) < len(_ICC_JPEG) + 2:
                return None
            seq, count = payload[len(_ICC_JPEG)], payload[len(_ICC_JPEG) + 1]
            icc_chunks.append((seq, count, payload[len(_ICC_JPEG) + 2 :]))
            kept = b""
            if icc_at is None:
                if not exif_written:
                    out.append(_segment(0xE1, orientation_exif(orientation)))
                    exif_written = True
                icc_at = len(out)  # the rebuilt profile goes where the first chunk was
        elif 0xE0 <= marker <= 0xEF:
            kept = _jpeg_app(marker, payload)
        elif marker == 0xFE:  # COM
            kept = b""
        elif marker in _JPEG_KEEP or marker in _SOF_BASELINE_OR_PROGRESSIVE or marker == 0xDA:
            kept = data[position:end]
        else:
            # Rare markers (DNL, DHP, EXP, JPG-n): not worth trusting a browser with.
            return None
        if kept is None:
            return None
        if kept:
            if not exif_written and marker != 0xE0:  # JFIF must stay first
                out.append(_segment(0xE1, orientation_exif(orientation)))
                exif_written = True
            out.append(kept)
        position = end
        in_scan = marker == 0xDA or in_scan
    if icc_chunks:
        profile = _icc_segments(icc_chunks)
        if profile is None:
            return None
        out.insert(icc_at if icc_at is not None else 1, profile)
    out.append(b"\xff\xd9")
    return b"".join(out)


def huffman_jpeg_too_short(data: bytes, width: int, height: int) -> bool:
    """Whether a Huffman-coded JPEG is too small to hold its frame's pixels.

    Every 8x8 block of the first component needs at least one Huffman code (one
    bit) for its DC coefficient, so ``width x height`` needs at least
    ``blocks / 8`` bytes. libjpeg fills the rest of a short file with grey and
    only warns, so without this a 631-byte file claiming 65500x700 "decodes".
    Arithmetic-coded JPEGs (no such bound) are not checked.
    """
    if not re.search(rb"\xff[\xc0-\xc2]", data):
        return False
    blocks = -(-width // 8) * -(-height // 8)
    return len(data) * 8 < blocks


_PNG_KEEP = {
    b"IHDR", b"PLTE", b"IDAT", b"IEND", b"tRNS",
    b"iCCP", b"sRGB", b"gAMA", b"cHRM", b"sBIT", b"cICP", b"mDCV", b"cLLI",
    b"acTL", b"fcTL", b"fdAT",
}  # fmt: skip


def _png_chunk(chunk_type: bytes, payload: bytes) -> bytes:
    crc = zlib.crc32(chunk_type + payload)
    return len(payload).to_bytes(4, "big") + chunk_type + payload + crc.to_bytes(4, "big")


def _png_iccp(payload: bytes) -> bytes | None:
    """The rebuilt iCCP chunk (``b""``: none needed), or None if the profile cannot be kept.

    The chunk's profile name is free text, so it is replaced too.
    """
    name_end = payload.find(b"\x00", 0, 80)
    if name_end < 1 or len(payload) < name_end + 2 or payload[name_end + 1] != 0:
        return None
    inflater = zlib.decompressobj()
    try:
        profile = inflater.decompress(payload[name_end + 2 :], _MAX_ICC)
    except zlib.error:
        return None
    if inflater.unconsumed_tail:
        return None  # larger than any real profile
    rebuilt = icc.for_output(profile)
    if not rebuilt:
        return rebuilt
    return _png_chunk(b"iCCP", b"ICC\x00\x00" + zlib.compress(rebuilt, 9))


def strip_png(data: bytes) -> bytes | None:
    """Copy a PNG (or APNG) keeping only chunks that affect how it looks; None to re-encode.

    An ``acTL`` without any ``fcTL`` describes no frame at all: browsers show the
    still image, and Pillow cannot seek it, so the copy is a plain PNG.
    """
    kept: list[tuple[bytes, bytes]] = []
    position = 8
    while True:
        if position + 12 > len(data):
            return None
        length = int.from_bytes(data[position : position + 4], "big")
        chunk_type = data[position + 4 : position + 8]
        end = position + 12 + length
        if end > len(data):
            return None
        if chunk_type == b"iCCP":
            rebuilt = _png_iccp(data[position + 8 : end - 4])
            if rebuilt is None:
                return None
            kept.append((chunk_type, rebuilt))
        elif chunk_type in _PNG_KEEP:
            kept.append((chunk_type, data[position:end]))
        if chunk_type == b"IEND":
            break
        position = end
    if not any(chunk_type == b"fcTL" for chunk_type, _ in kept):
        kept = [(t, chunk) for t, chunk in kept if t not in (b"acTL", b"fdAT")]
    return data[:8] + b"".join(chunk for _, chunk in kept)


_WEBP_KEEP = {b"VP8 ", b"VP8L", b"ALPH", b"ANIM"}
_WEBP_FRAME_KEEP = {b"VP8 ", b"VP8L", b"ALPH"}
_VP8X_ICC, _VP8X_EXIF, _VP8X_XMP = 0x20, 0x08, 0x04
_ANMF_HEADER = 16


def _riff_chunks(data: bytes, position: int, limit: int) -> list[tuple[bytes, bytes]] | None:
    """``(fourcc, payload)`` of each chunk from ``position`` to ``limit``; None if they overrun."""
    chunks = []
    while position + 8 <= limit:
        fourcc = data[position : position + 4]
        size = int.from_bytes(data[position + 4 : position + 8], "little")
        if position + 8 + size > limit:
            return None
        chunks.append((fourcc, data[position + 8 : position + 8 + size]))
        position += 8 + size + (size & 1)
    return chunks


def _riff_chunk(fourcc: bytes, payload: bytes) -> bytes:
    return fourcc + len(payload).to_bytes(4, "little") + payload + bytes(len(payload) & 1)


def strip_webp(data: bytes) -> bytes | None:
    """Copy a WebP keeping image chunks only, the profile rebuilt; None to re-encode.

    Animation frames (ANMF) hold sub-chunks of their own; unknown ones go too.
    """
    riff_size = int.from_bytes(data[4:8], "little")
    chunks = _riff_chunks(data, 12, min(len(data), 8 + riff_size))
    if chunks is None:
        return None
    out = []
    icc_kept = False
    for fourcc, payload in chunks:
        if fourcc == b"ICCP":
            rebuilt = icc.for_output(payload)
            if rebuilt is None:
                return None
            if rebuilt:
                out.append(_riff_chunk(fourcc, rebuilt))
                icc_kept = True
        elif fourcc == b"ANMF" and len(payload) >= _ANMF_HEADER:
            frame = _riff_chunks(payload, _ANMF_HEADER, len(payload))
            if frame is None:
                return None
            kept = b"".join(_riff_chunk(c, p) for c, p in frame if c in _WEBP_FRAME_KEEP)
            out.append(_riff_chunk(fourcc, payload[:_ANMF_HEADER] + kept))
        elif fourcc in _WEBP_KEEP or (fourcc == b"VP8X" and len(payload) >= 10):
            out.append(_riff_chunk(fourcc, payload))
    for index, chunk in enumerate(out):
        if chunk.startswith(b"VP8X"):
            flags = chunk[8] & ~(_VP8X_EXIF | _VP8X_XMP | (0 if icc_kept else _VP8X_ICC))
            # Flags, three reserved (zero) bytes, the canvas size; nothing after it.
            out[index] = _riff_chunk(b"VP8X", bytes([flags]) + bytes(3) + chunk[12:18])
    body = b"WEBP" + b"".join(out)
    return b"RIFF" + len(body).to_bytes(4, "little") + body


_GIF_LOOP_APPLICATIONS = (b"NETSCAPE2.0", b"ANIMEXTS1.0")


class _Unusual(Exception):
    """A GIF structure the lossless copy does not handle; the pipeline re-encodes."""


def _gif_sub_blocks(data: bytes, position: int) -> tuple[list[bytes], int]:
    """The data sub-blocks starting at ``position`` and the index just past their terminator."""
    blocks = []
    while True:
        if position >= len(data):
            raise _Unusual
        size = data[position]
        if size == 0:
            return blocks, position + 1
        blocks.append(data[position + 1 : position + 1 + size])
        position += 1 + size


def _gif_extension(label: int, blocks: list[bytes], loop_written: bool) -> bytes:
    """The standard form of an extension worth keeping, or ``b""`` to drop it."""
    if label == 0xF9:  # graphic control: disposal, delay, transparent index
        if not blocks or len(blocks[0]) != 4:
            raise _Unusual
        return b"\x21\xf9\x04" + blocks[0] + b"\x00"
    if label == 0xFF and blocks and blocks[0] in _GIF_LOOP_APPLICATIONS and not loop_written:
        for block in blocks[1:]:
            if len(block) == 3 and block[0] == 1:  # the loop sub-block; nothing else
                return b"\x21\xff\x0bNETSCAPE2.0\x03\x01" + block[1:] + b"\x00"
    return b""  # comments, plain text, other applications


def strip_gif(data: bytes) -> tuple[bytes | None, int]:
    """Copy a GIF keeping frames, their timing and the loop count; count its frames.

    Counting here, without decoding, lets the pipeline check an animation's
    total pixels before Pillow touches a single frame. An unusual structure
    (no trailer, unknown blocks) gives ``(None, 0)``: re-encode, count with Pillow.
    """
    if len(data) < 13:
        return None, 0
    flags = data[10]
    position = 13 + (3 * 2 ** ((flags & 7) + 1) if flags & 0x80 else 0)
    out = [data[:position]]
    frames = 0
    loop_written = False
    try:
        while True:
            if position >= len(data):
                raise _Unusual
            introducer = data[position]
            if introducer == 0x3B:  # trailer
                out.append(b"\x3b")
                return b"".join(out), frames
            if introducer == 0x2C:  # image descriptor
                if position + 11 > len(data):
                    raise _Unusual
                local = data[position + 9]
                header_end = position + 10 + (3 * 2 ** ((local & 7) + 1) if local & 0x80 else 0)
                _, end = _gif_sub_blocks(data, header_end + 1)  # +1: LZW minimum code size
                out.append(data[position:end])
                frames += 1
            elif introducer == 0x21:  # extension
                if position + 2 > len(data):
                    raise _Unusual
                blocks, end = _gif_sub_blocks(data, position + 2)
                kept = _gif_extension(data[position + 1], blocks, loop_written)
                loop_written = loop_written or kept.startswith(b"\x21\xff")
                out.append(kept)
            else:
                raise _Unusual
            position = end
    except _Unusual:
        return None, 0
