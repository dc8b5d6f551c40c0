"""The outputs table is the only place output formats are described."""

from __future__ import annotations

import io
import re
import zlib
from pathlib import Path

from PIL import Image

from lambda_function import config, outputs
from lambda_function.pipeline import Spec, VariantSpec, process

ROOT = Path(__file__).resolve().parents[2]


def test_output_format_setting_accepts_exactly_the_table() -> None:
    assert config.OUTPUT_FORMATS[0] == "auto"
    assert config.OUTPUT_FORMATS[1:] == tuple(outputs.OUTPUTS)
    assert set(outputs.OUTPUTS) == {"jpeg", "png", "webp", "avif"}


def test_no_other_lambda_module_spells_an_output_content_type() -> None:
    for module in sorted((ROOT / "lambda_function").glob("*.py")):
        if module.name in ("outputs.py", "formats.py"):  # formats: the input allow-list
            continue
        assert not re.search(r"image/(jpeg|png|webp|avif)", module.read_text()), module.name


def test_every_row_encodes_what_it_says() -> None:
    image = Image.new("RGB", (40, 30), (200, 40, 40))
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    for output_format in outputs.OUTPUTS.values():
        spec = Spec(variants=(VariantSpec.parse("20x20"),), blur_radius=0,
                    output_format=output_format.name)  # fmt: skip
        (made,) = process(buffer.getvalue(), spec).outputs
        assert made.content_type == output_format.content_type
        assert made.extension == output_format.extension
        assert Image.open(io.BytesIO(made.data)).format == output_format.pillow_format


def test_save_options_follow_the_row() -> None:
    assert outputs.JPEG.save_options(1_000_000, 70) == {"quality": 70, "optimize": True}
    assert outputs.JPEG.save_options(1_000_001, 70) == {"quality": 70, "optimize": False}
    assert outputs.PNG.save_options(10, 70) == {"compress_level": 6, "compress_type": zlib.Z_RLE}
    assert outputs.WEBP.save_options(10, 70) == {"quality": 70, "method": 4}
    assert outputs.AVIF.save_options(10, 70) == {"quality": 70, "speed": 8}
