"""Colour profiles reduced to their colour data, and sRGB recognised by content.

An embedded ICC profile is a container: besides primaries and tone curves it
carries a free-text description and copyright (seen in the wild: "Owner: Jane
Doe, GPS 52.5N 13.4E"), a creator, a device model, a date and any private tag.
So a kept original never carries a profile verbatim:

* a profile whose colour content is sRGB's (primaries and tone curve, whatever it
  calls itself) is dropped: an untagged image *is* sRGB to every browser;
* any other matrix/TRC profile (Display P3, Adobe RGB (1998), a camera's RGB,
  a grey gamma) is rebuilt from its colour tags only: white point, chromatic
  adaptation, primaries and tone curves, each checked against its ICC type and
  copied number by number; a fixed description, a zeroed header;
* anything else (LUT-based, CMYK, Lab, unreadable) cannot be rebuilt: the
  caller re-encodes the image converted to sRGB.

The name never decides: a profile described as "sRGB" with a linear tone curve
is not sRGB (:func:`is_srgb` reads the numbers).
"""

from __future__ import annotations

import itertools
import struct
from dataclasses import dataclass

_HEADER = 128
_MAX_CURVE_ENTRIES = 4096
# Tables a CMM prefers to the matrix/TRC tags: if present, the matrix alone is not the profile.
_LUT_TAGS = {b"A2B0", b"A2B1", b"A2B2", b"B2A0", b"B2A1", b"B2A2", b"D2B0", b"B2D0"}
_RGB_TAGS = (b"rXYZ", b"gXYZ", b"bXYZ", b"rTRC", b"gTRC", b"bTRC")
_PARA_PARAMS = {0: 1, 1: 3, 2: 4, 3: 5, 4: 7}
# sRGB's primaries adapted to D50 (the PCS), as every sRGB profile states them.
_SRGB_PRIMARIES = (
    (0.4361, 0.2225, 0.0139),
    (0.3851, 0.7169, 0.0971),
    (0.1431, 0.0606, 0.7141),
)
_PRIMARY_TOLERANCE = 0.003
_CURVE_TOLERANCE = 0.004  # about one 8-bit level
_D50 = struct.pack(">3i", 0xF6D6, 0x10000, 0xD32D)
DESCRIPTION = "RGB"


@dataclass(frozen=True)
class Profile:
    """The parts of a profile colour depends on, each tag's bytes already validated."""

    colour_space: bytes
    intent: int
    tags: dict[bytes, bytes]


def _s15(data: bytes, offset: int) -> float:
    return int.from_bytes(data[offset : offset + 4], "big", signed=True) / 65536


def _valid_tag(data: bytes) -> bytes | None:
    """The tag's bytes cut to its type's exact size, reserved bytes zeroed; None if unfit."""
    kind = data[:4]
    if kind == b"XYZ " and len(data) >= 20:
        return kind + bytes(4) + data[8:20]
    if kind == b"sf32" and len(data) >= 44:
        return kind + bytes(4) + data[8:44]
    if kind == b"curv" and len(data) >= 12:
        count = int.from_bytes(data[8:12], "big")
        end = 12 + 2 * count
        if count > _MAX_CURVE_ENTRIES or len(data) < end:
            return None
        table = struct.unpack(f">{count}H", data[12:end])
        if count > 1 and any(b < a for a, b in itertools.pairwise(table)):
            return None  # a tone curve never falls: anything else is not colour data
        return kind + bytes(4) + data[8:end]
    if kind == b"para" and len(data) >= 12:
        function = int.from_bytes(data[8:10], "big")
        if function not in _PARA_PARAMS:
            return None
        end = 12 + 4 * _PARA_PARAMS[function]
        if len(data) < end:
            return None
        return kind + bytes(4) + data[8:10] + bytes(2) + data[12:end]
    return None


def parse(icc: bytes) -> Profile | None:
    """The colour tags of a matrix/TRC RGB or grey profile, or None if it is not one."""
    if len(icc) < _HEADER + 4 or icc[36:40] != b"acsp" or icc[20:24] != b"XYZ ":
        return None
    colour_space = icc[16:20]
    needed = _RGB_TAGS if colour_space == b"RGB " else (b"kTRC",)
    if colour_space not in (b"RGB ", b"GRAY"):
        return None
    count = int.from_bytes(icc[128:132], "big")
    if count > 100 or _HEADER + 4 + 12 * count > len(icc):
        return None
    raw: dict[bytes, bytes] = {}
    for index in range(count):
        entry = _HEADER + 4 + 12 * index
        signature = icc[entry : entry + 4]
        offset, size = struct.unpack(">II", icc[entry + 4 : entry + 12])
        if signature in _LUT_TAGS:
            return None
        if offset + size <= len(icc):
            raw[signature] = icc[offset : offset + size]
    tags: dict[bytes, bytes] = {}
    for signature in (*needed, b"wtpt", b"chad", b"bkpt"):
        if signature not in raw:
            if signature in needed:
                return None
            continue
        valid = _valid_tag(raw[signature])
        if valid is None:
            return None
        if signature.endswith(b"XYZ") or signature in (b"wtpt", b"bkpt"):
            if not valid.startswith(b"XYZ "):
                return None
        elif signature == b"chad":
            if not valid.startswith(b"sf32"):
                return None
        elif not valid.startswith((b"curv", b"para")):
            return None
        tags[signature] = valid
    intent = int.from_bytes(icc[64:68], "big")
    return Profile(colour_space, intent if intent < 4 else 0, tags)


def _mluc(text: str) -> bytes:
    encoded = text.encode("utf-16-be")
    return (
        b"mluc"
        + bytes(4)
        + struct.pack(">II2s2sII", 1, 12, b"en", b"US", len(encoded), 28)
        + encoded
    )


def rebuild(profile: Profile) -> bytes:
    """A minimal ICC v4 profile with ``profile``'s colour tags and nothing else."""
    tags = {b"desc": _mluc(DESCRIPTION), **profile.tags}
    table = bytearray()
    body = bytearray()
    offset = _HEADER + 4 + 12 * len(tags)
    for signature, data in tags.items():
        table += signature + struct.pack(">II", offset + len(body), len(data))
        body += data + bytes(-len(data) % 4)
    size = offset + len(body)
    header = (
        struct.pack(
            ">I4sI4s4s4s", size, bytes(4), 0x04300000, b"mntr", profile.colour_space, b"XYZ "
        )
        + bytes(12)  # date
        + b"acsp"
        + bytes(20)  # platform, flags, device manufacturer and model, attributes (first half)
        + bytes(4)  # attributes (second half)
        + struct.pack(">I", profile.intent)
        + _D50
        + bytes(4)  # creator
        + bytes(16)  # profile ID
        + bytes(28)
    )
    assert len(header) == _HEADER
    return header + struct.pack(">I", len(tags)) + bytes(table) + bytes(body)


def _curve(tag: bytes, x: float) -> float:
    if tag.startswith(b"curv"):
        count = int.from_bytes(tag[8:12], "big")
        if count == 0:
            return x
        if count == 1:
            return x ** (int.from_bytes(tag[12:14], "big") / 256)
        table = struct.unpack(f">{count}H", tag[12 : 12 + 2 * count])
        position = x * (count - 1)
        low = min(int(position), count - 2)
        fraction = position - low
        return (table[low] * (1 - fraction) + table[low + 1] * fraction) / 65535
    function = int.from_bytes(tag[8:10], "big")
    g, a, b, c, d, e, f = (
        [_s15(tag, 12 + 4 * i) for i in range(_PARA_PARAMS[function])] + [1.0, 0.0, 0.0, 0.0, 0, 0]
    )[:7]
    if function == 0:
        return x**g
    if function == 1:
        return (a * x + b) ** g if x >= -b / a else 0.0
    if function == 2:
        return (a * x + b) ** g + c if x >= -b / a else c
    if function == 3:
        return (a * x + b) ** g if x >= d else c * x
    return (a * x + b) ** g + e if x >= d else c * x + f


def _srgb_eotf(x: float) -> float:
    return x / 12.92 if x <= 0.04045 else ((x + 0.055) / 1.055) ** 2.4


def is_srgb(icc: bytes) -> bool:
    """Whether ``icc`` maps colours as sRGB does, judged from its primaries and curves."""
    profile = parse(icc)
    if profile is None or profile.colour_space != b"RGB ":
        return False
    for name, expected in zip((b"rXYZ", b"gXYZ", b"bXYZ"), _SRGB_PRIMARIES, strict=True):
        values = [_s15(profile.tags[name], 8 + 4 * i) for i in range(3)]
        if any(abs(v - w) > _PRIMARY_TOLERANCE for v, w in zip(values, expected, strict=True)):
            return False
    samples = [i / 32 for i in range(33)]
    try:
        return all(
            abs(_curve(profile.tags[name], x) - _srgb_eotf(x)) <= _CURVE_TOLERANCE
            for name in (b"rTRC", b"gTRC", b"bTRC")
            for x in samples
        )
    except (ValueError, ZeroDivisionError, OverflowError):
        return False


def for_output(icc: bytes) -> bytes | None:
    """What a kept original may embed instead of ``icc``: ``b""`` for none, None to re-encode."""
    if is_srgb(icc):
        return b""
    profile = parse(icc)
    return None if profile is None else rebuild(profile)
