"""Fixtures for the infra tests: configs in both bucket modes and architectures."""

from __future__ import annotations

import pytest

from async_image_upload.infra.config import StackConfig

CALLBACK_URL = "https://app.example.com/uploads/callback/"


def make_config(**changes) -> StackConfig:
    """A valid config; tests change only what they are about."""
    values = {
        "bucket_name": "photos-example-uploads",
        "callback_url": CALLBACK_URL,
        "stack_name": "photos-thumbs",
        "cors_origins": ("https://app.example.com",),
    }
    values.update(changes)
    return StackConfig(**values)


@pytest.fixture(
    params=[("new", "arm64"), ("new", "x86_64"), ("existing", "arm64"), ("existing", "x86_64")],
    ids=lambda p: f"{p[0]}-{p[1]}",
)
def any_config(request) -> StackConfig:
    """Every combination the issue asks the linters to pass."""
    mode, arch = request.param
    return make_config(bucket_mode=mode, architecture=arch)
