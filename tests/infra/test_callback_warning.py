"""The deploy command warns when the Lambda could never reach the callback URL."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command


@pytest.mark.parametrize(
    ("url", "warned"),
    [
        ("http://127.0.0.1:8000/api/uploads/callback/", True),
        ("http://localhost:8000/api/uploads/callback/", True),
        ("http://[::1]:8000/api/uploads/callback/", True),
        ("https://photos.example.com/api/uploads/callback/", False),
    ],
)
def test_loopback_callback_url_is_warned_about(settings, url, warned) -> None:
    settings.ASYNC_IMAGE_UPLOAD = {**settings.ASYNC_IMAGE_UPLOAD, "CALLBACK_URL": url}
    err = io.StringIO()
    call_command(
        "deploy_thumbnail_stack", "--dry-run", "--new-bucket", "my-photos",
        stdout=io.StringIO(), stderr=err,
    )  # fmt: skip
    assert ("cannot reach it" in err.getvalue()) is warned
