"""Configuration: the original deployment's variables still work; mistakes fail loudly."""

from __future__ import annotations

import pytest

from lambda_function.config import load_config
from lambda_function.errors import ConfigError


def test_defaults_match_the_original_deployment() -> None:
    config = load_config({})
    assert config.default_variants == ("50x50", "100x100", "400x400", "original")
    assert config.blur_radius == 20
    assert (config.temp_prefix, config.image_prefix) == ("temp/", "image/")
    assert config.callback_url == ""
    assert config.keep_source is False
    assert config.max_pixels == 50_000_000


def test_original_variables_and_new_ones() -> None:
    config = load_config(
        {
            "THUMB_DIMENSION_SMALL": "64", "THUMB_DIMENSION_MEDIUM": "128",
            "THUMB_DIMENSION_LARGE": "1024", "BLUR": "off", "IMAGE_FOLDER": "img/",
            "CALLBACK_URL": "https://example.com/uploads/callback/", "CALLBACK_SECRET": "x",
            "OUTPUT_FORMAT": "WebP", "BACKGROUND": "#000000", "KEEP_SOURCE": "yes",
            "AWS_ENDPOINT_URL_S3": "http://127.0.0.1:9000",
        }
    )  # fmt: skip
    assert config.default_variants == ("64x64", "128x128", "1024x1024", "original")
    assert config.blur_radius == 0
    assert config.image_prefix == "img/"
    assert config.output_format == "webp"
    assert config.background == (0, 0, 0)
    assert config.keep_source is True
    assert config.s3_endpoint_url == "http://127.0.0.1:9000"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"THUMB_DIMENSION_SMALL": "big"}, "THUMB_DIMENSION_SMALL must be an integer"),
        ({"THUMB_DIMENSION_LARGE": "0"}, "THUMB_DIMENSION_LARGE must be between"),
        ({"BLUR": "maybe"}, "BLUR must be one of"),
        ({"BLUR_RADIUS": "-3"}, "BLUR_RADIUS must be between"),
        ({"IMAGE_FOLDER": "temp/out/"}, "must not lie under TEMP_FOLDER"),
        ({"CALLBACK_URL": "ftp://example.com"}, "CALLBACK_URL must be an http"),
        ({"CALLBACK_URL": "https://example.com/cb/"}, "CALLBACK_SECRET is required"),
        ({"OUTPUT_FORMAT": "bmp"}, "OUTPUT_FORMAT must be one of"),
        ({"BACKGROUND": "white"}, "BACKGROUND must be a hex colour"),
        ({"OUTPUT_QUALITY": "101"}, "OUTPUT_QUALITY must be between"),
    ],
)
def test_bad_values_name_the_variable(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_config(env)
