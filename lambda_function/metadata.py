"""The pipeline spec for one upload: its ``x-amz-meta-*`` request, or the deployment's defaults.

Django pins the per-upload variant set and blur radius in the presigned POST
(docs/contract.md, "Object metadata"). A missing or malformed value falls back
to the environment defaults rather than failing: the upload itself is fine.
"""

from __future__ import annotations

from .config import Config
from .limits import MAX_BLUR_RADIUS, MAX_VARIANTS
from .pipeline import Spec, VariantSpec
from .storage import SourceObject


def spec_for(source: SourceObject, config: Config) -> Spec:
    """The pipeline spec: per-upload metadata where valid, environment defaults otherwise."""
    try:
        names = [name.strip() for name in source.metadata["variants"].split(",")]
        variants = tuple(dict.fromkeys(VariantSpec.parse(name) for name in names))
        if not 0 < len(variants) <= MAX_VARIANTS:
            raise ValueError("variant count out of range")
    except (KeyError, ValueError):
        variants = tuple(VariantSpec.parse(name) for name in config.default_variants)
    try:
        blur_radius = int(source.metadata["blur-radius"])
        if not 0 <= blur_radius <= MAX_BLUR_RADIUS:
            raise ValueError("blur radius out of range")
    except (KeyError, ValueError):
        blur_radius = config.blur_radius
    return Spec(
        variants=variants,
        blur_radius=blur_radius,
        output_format=config.output_format,
        quality=config.quality,
        max_bytes=config.max_source_bytes,
        max_pixels=config.max_pixels,
        max_animation_pixels=config.max_animation_pixels,
        background=config.background,
        memory_mb=config.memory_mb,
    )
