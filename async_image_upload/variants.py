"""Variant specifications: ``"WxH"`` boxes and ``"original"``.

The same strings travel to the Lambda in the ``x-amz-meta-variants`` metadata,
so they are validated here before they reach a presigned POST.
"""

from __future__ import annotations

import binascii
import re
from base64 import b64decode
from collections.abc import Iterable
from dataclasses import dataclass

ORIGINAL = "original"
#: The bundled Lambda's limits (docs/contract.md): larger boxes or more variants
#: would make it fall back to its environment defaults, or fail at cold start.
MAX_BOX = 8192
MAX_VARIANTS = 12
#: The Lambda's largest blur radius: a larger ``BLUR_RADIUS`` would fail its cold start.
MAX_BLUR_RADIUS = 250
#: The longest inline placeholder a callback may carry, ``data:`` prefix included.
#: The Lambda makes a 16-pixel WebP of a few hundred characters.
MAX_PLACEHOLDER_CHARS = 8192
#: Raster types only (never SVG, which can carry script), then base64 and nothing else:
#: the value ends up in ``src`` attributes and CSS ``url()``s (``display.py``).
_PLACEHOLDER = re.compile(r"data:image/(?:webp|png|jpeg|avif);base64,([A-Za-z0-9+/]+={0,2})")
_BOX = re.compile(r"^([1-9][0-9]{0,4})x([1-9][0-9]{0,4})$")


@dataclass(frozen=True, order=True)
class VariantSpec:
    """One requested output: a bounding box, or the source size when ``box`` is None."""

    name: str
    box: tuple[int, int] | None

    @property
    def is_original(self) -> bool:
        return self.box is None


def parse_variant(name: str) -> VariantSpec:
    if name == ORIGINAL:
        return VariantSpec(name, None)
    match = _BOX.match(name) if isinstance(name, str) else None
    if not match:
        raise ValueError(
            f"{name!r} is not a variant: use 'WIDTHxHEIGHT' (e.g. '400x400') or 'original'."
        )
    width, height = int(match[1]), int(match[2])
    if width > MAX_BOX or height > MAX_BOX:
        raise ValueError(f"{name!r} is larger than the Lambda's {MAX_BOX}x{MAX_BOX} limit.")
    return VariantSpec(name, (width, height))


def parse_variants(names: Iterable[str]) -> list[VariantSpec]:
    """Parse and de-duplicate, keeping order; refuse an empty set."""
    if isinstance(names, str):
        raise ValueError("Variants must be a list of names, not one string.")
    specs: list[VariantSpec] = []
    for name in names:
        spec = parse_variant(name)
        if spec not in specs:
            specs.append(spec)
    if not specs:
        raise ValueError("At least one variant is needed.")
    if len(specs) > MAX_VARIANTS:
        raise ValueError(f"At most {MAX_VARIANTS} variants: the Lambda makes no more.")
    return specs


def variants_metadata(names: Iterable[str]) -> str:
    """The ``x-amz-meta-variants`` value for a variant set."""
    return ",".join(spec.name for spec in parse_variants(names))


def is_valid_placeholder(value: str) -> bool:
    """A raster ``data:`` URI of valid base64 within :data:`MAX_PLACEHOLDER_CHARS`.

    The callback refuses anything else, and ``display.py`` checks again before
    it inlines a stored value, so a row edited by hand cannot inject markup.
    """
    if not isinstance(value, str) or len(value) > MAX_PLACEHOLDER_CHARS:
        return False
    match = _PLACEHOLDER.fullmatch(value)
    if match is None:
        return False
    try:
        b64decode(match[1], validate=True)
    except (binascii.Error, ValueError):
        return False
    return True
