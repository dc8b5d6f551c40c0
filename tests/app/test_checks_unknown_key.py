"""E000 (an unknown ``ASYNC_IMAGE_UPLOAD`` key) no longer hides the other checks."""

from __future__ import annotations

from async_image_upload.checks import check_settings


def test_a_typo_is_reported_with_every_other_problem(settings) -> None:
    settings.ASYNC_IMAGE_UPLOAD = {
        "BUCKKET": "typo",  # E000, and so no BUCKET: E001
        "TEMP_PREFIX": "temp",  # E003
        "CALLBACK_URL": "https://example.com/api/uploads/callback/",
    }
    found = {message.id for message in check_settings()}
    assert {
        "async_image_upload.E000",
        "async_image_upload.E001",
        "async_image_upload.E003",
    } <= found
