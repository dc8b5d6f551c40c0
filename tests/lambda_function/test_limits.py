"""The variant limits live in one Lambda module and match the contract and Django."""

from __future__ import annotations

import ast
import base64
import os
import re
from pathlib import Path

import pytest
from PIL import Image

from lambda_function import config as config_module
from lambda_function import limits, metadata, pipeline
from lambda_function.config import load_config
from lambda_function.errors import ConfigError
from lambda_function.metadata import spec_for
from lambda_function.pipeline import VariantSpec
from lambda_function.storage import SourceObject

ROOT = Path(__file__).resolve().parents[2]


def _source(variants: str) -> SourceObject:
    return SourceObject(key="temp/x", etag="e", size=1, metadata={"variants": variants})


def test_limits_are_one_set_of_named_constants_used_everywhere() -> None:
    assert (limits.MAX_BOX, limits.MAX_VARIANTS) == (8192, 12)
    assert limits.MAX_BLUR_RADIUS == 250
    # Every Lambda module uses the shared names, none keeps its own copy.
    assert pipeline.MAX_BOX is limits.MAX_BOX
    assert metadata.MAX_VARIANTS is limits.MAX_VARIANTS
    assert metadata.MAX_BLUR_RADIUS is limits.MAX_BLUR_RADIUS
    assert config_module.MAX_BOX is limits.MAX_BOX
    assert config_module.MAX_BLUR_RADIUS is limits.MAX_BLUR_RADIUS
    for module in sorted((ROOT / "lambda_function").glob("*.py")):
        if module.name == "limits.py":
            continue
        text = module.read_text()
        assert "8192" not in text, module.name
        assert not re.search(r"\b250\b", text), module.name
        assert not re.search(r"^MAX_(BOX|VARIANTS|BLUR_RADIUS)\s*=", text, re.MULTILINE), (
            module.name
        )


def test_box_and_variant_count_limits_are_enforced() -> None:
    assert VariantSpec.parse("8192x8192").box == (8192, 8192)
    with pytest.raises(ValueError):
        VariantSpec.parse("8193x10")
    assert load_config({"THUMB_DIMENSION_LARGE": "8192"}).default_variants[2] == "8192x8192"
    with pytest.raises(ConfigError, match="THUMB_DIMENSION_LARGE"):
        load_config({"THUMB_DIMENSION_LARGE": "8193"})

    config = load_config({})
    twelve = ",".join(f"{n}x{n}" for n in range(1, 12)) + ",original"
    assert len(spec_for(_source(twelve), config).variants) == 12
    thirteen = ",".join(f"{n}x{n}" for n in range(1, 13)) + ",original"
    defaults = tuple(VariantSpec.parse(name) for name in config.default_variants)
    assert spec_for(_source(thirteen), config).variants == defaults  # falls back


def test_contract_and_django_state_the_same_limits() -> None:
    contract = (ROOT / "docs" / "contract.md").read_text()
    assert "at most 12 variants" in contract
    assert "8192\N{MULTIPLICATION SIGN}8192" in contract
    # Read Django's numbers without importing Django (these tests never do).
    tree = ast.parse((ROOT / "async_image_upload" / "variants.py").read_text())
    django = {
        target.id: node.value.value
        for node in tree.body
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant)
        for target in node.targets
        if isinstance(target, ast.Name)
    }
    assert django["MAX_BOX"] == limits.MAX_BOX
    assert django["MAX_VARIANTS"] == limits.MAX_VARIANTS
    assert django["MAX_BLUR_RADIUS"] == limits.MAX_BLUR_RADIUS
    assert django["MAX_PLACEHOLDER_CHARS"] == limits.MAX_PLACEHOLDER_CHARS
    # The deploy command's own check reads the twin, not a third copy of the number.
    infra_config = (ROOT / "async_image_upload" / "infra" / "config.py").read_text()
    assert "MAX_BLUR_RADIUS" in infra_config
    assert not re.search(r"\b250\b", infra_config)


def test_blur_radius_limit_is_enforced() -> None:
    assert load_config({"BLUR_RADIUS": "250"}).blur_radius == 250
    with pytest.raises(ConfigError, match="BLUR_RADIUS"):
        load_config({"BLUR_RADIUS": "251"})
    config = load_config({})
    source = SourceObject(key="temp/x", etag="e", size=1, metadata={"blur-radius": "250"})
    assert spec_for(source, config).blur_radius == 250
    source = SourceObject(key="temp/x", etag="e", size=1, metadata={"blur-radius": "251"})
    assert spec_for(source, config).blur_radius == config.blur_radius  # falls back


def test_the_worst_placeholder_fits_what_django_accepts() -> None:
    """Pure noise with alpha at the placeholder box is the largest one we can make."""
    side = pipeline.PLACEHOLDER_BOX
    noise = Image.frombytes("RGBA", (side, side), os.urandom(side * side * 4))
    encoded = pipeline._encode(
        noise, pipeline.PLACEHOLDER_FORMAT, pipeline.PLACEHOLDER_QUALITY, (255, 255, 255)
    )
    uri = f"data:{pipeline.PLACEHOLDER_FORMAT.content_type};base64,"
    uri += base64.b64encode(encoded).decode("ascii")
    assert len(uri) <= limits.MAX_PLACEHOLDER_CHARS
