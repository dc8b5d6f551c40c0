"""StackConfig validation and the DEPLOY_* settings it reads."""

from __future__ import annotations

import pytest

from async_image_upload.infra.config import ConfigError, config_from_settings

from .conftest import make_config


@pytest.mark.parametrize(
    ("variants", "message"),
    [
        ((), "At least one variant"),
        (("9000x100",), "8192x8192 limit"),
        (tuple(f"{n}x{n}" for n in range(1, 14)), "At most 12 variants"),
        (("400x400", "big"), "'big' is not a variant"),
    ],
)
def test_variants_are_checked_by_the_same_rules_as_uploads(variants, message):
    with pytest.raises(ConfigError, match=f"VARIANTS: .*{message}"):
        make_config(variants=variants)


def test_deploy_settings_are_read_through_the_settings_object(settings):
    settings.ASYNC_IMAGE_UPLOAD = {
        **settings.ASYNC_IMAGE_UPLOAD,
        "DEPLOY_STACK_NAME": "photos-prod",
        "DEPLOY_MEMORY_MB": 1024,
        "DEPLOY_ARCHITECTURE": "x86_64",
        "DEPLOY_RESERVED_CONCURRENCY": 5,
        "DEPLOY_CORS_ORIGINS": ["https://a.example"],
    }
    config = config_from_settings()
    assert (config.stack_name, config.memory_mb, config.architecture) == (
        "photos-prod",
        1024,
        "x86_64",
    )
    assert config.reserved_concurrency == 5
    assert config.cors_origins == ("https://a.example",)
    # Options still win over the settings.
    assert config_from_settings(memory_mb=2048).memory_mb == 2048
