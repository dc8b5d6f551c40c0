"""Sizes in messages, one way everywhere: binary units and the exact byte count."""

from __future__ import annotations

_UNITS = (("GiB", 1024**3), ("MiB", 1024**2), ("KiB", 1024))


def describe_bytes(count: int) -> str:
    """``20971520`` → ``"20 MiB (20,971,520 bytes)"``; under 1 KiB, just the bytes.

    Binary units, named as such (a "MB" that means 2**20 was the mix users met),
    with the exact figure a client can compare its file's size with.
    """
    count = int(count)
    for unit, size in _UNITS:
        if count >= size:
            amount = f"{count / size:.1f}".removesuffix(".0")
            return f"{amount} {unit} ({count:,} bytes)"
    return f"{count:,} bytes"
