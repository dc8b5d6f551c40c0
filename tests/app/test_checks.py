from __future__ import annotations

import pytest
from django.db import models
from django.test.utils import isolate_apps

from async_image_upload import AsyncImageField
from async_image_upload.checks import check_settings


def ids(settings_value, settings, debug=False) -> set[str]:
    settings.ASYNC_IMAGE_UPLOAD = settings_value
    settings.DEBUG = debug
    return {message.id for message in check_settings()}


GOOD = {"BUCKET": "b", "CALLBACK_URL": "https://example.com/api/uploads/callback/"}


def test_good_configuration_has_no_messages(settings) -> None:
    assert ids(GOOD, settings) == set()


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"BUCKET": None}, "async_image_upload.E001"),
        ({"IMAGE_PREFIX": "temp/image/"}, "async_image_upload.E002"),
        ({"TEMP_PREFIX": "temp"}, "async_image_upload.E003"),
        ({"ALLOWED_CONTENT_TYPES": ["image/jpeg", "image/svg+xml"]}, "async_image_upload.E004"),
        ({"VARIANTS": ["400x400", "huge"]}, "async_image_upload.E005"),
        ({"VARIANTS": ["10000x10000"]}, "async_image_upload.E005"),
        ({"VARIANTS": [f"{n}x{n}" for n in range(10, 140, 10)]}, "async_image_upload.E005"),
        ({"CALLBACK_URL": "ftp://example.com/cb"}, "async_image_upload.E006"),
        ({"URL_MODE": "public"}, "async_image_upload.E007"),
        ({"URL_MODE": "custom_domain"}, "async_image_upload.E008"),
        ({"MAX_UPLOAD_BYTES": 0}, "async_image_upload.E009"),
        ({"PRESIGN_EXPIRY": 8 * 24 * 3600}, "async_image_upload.E010"),
        ({"URL_EXPIRY": 0}, "async_image_upload.E009"),
        ({"URL_SIGNING_WINDOW": "3600"}, "async_image_upload.E009"),
        (
            {"URL_SIGNING_WINDOW": 6 * 24 * 3600, "URL_EXPIRY": 2 * 24 * 3600},
            "async_image_upload.E012",
        ),
        ({"CALLBACK_URL": None}, "async_image_upload.W001"),
        ({"CALLBACK_URL": "http://example.com/cb"}, "async_image_upload.W002"),
        ({"BUCKKET": "typo"}, "async_image_upload.E000"),
    ],
)
def test_each_misconfiguration_has_its_id(settings, overrides, expected) -> None:
    assert expected in ids({**GOOD, **overrides}, settings)


def test_plain_http_callback_is_fine_in_debug(settings) -> None:
    assert ids({**GOOD, "CALLBACK_URL": "http://127.0.0.1:8000/cb"}, settings, debug=True) == set()


@isolate_apps("tests.testapp")
def test_field_options_are_checked() -> None:
    class BadField(models.Model):
        image = AsyncImageField(variants=["tiny"], allowed_content_types=["text/plain"])

        class Meta:
            app_label = "testapp"

        def __str__(self) -> str:
            return "bad"

    found = {m.id for m in BadField._meta.get_field("image").check()}
    assert {"async_image_upload.E005", "async_image_upload.E004"} <= found


def test_signing_window_and_expiry_up_to_seven_days_are_fine(settings) -> None:
    week = {"URL_SIGNING_WINDOW": 6 * 24 * 3600, "URL_EXPIRY": 24 * 3600}
    assert ids({**GOOD, **week}, settings) == set()
    # Only presigned URLs carry a SigV4 expiry.
    too_long = {"URL_SIGNING_WINDOW": 7 * 24 * 3600, "URL_EXPIRY": 3600}
    assert "async_image_upload.E012" in ids({**GOOD, **too_long}, settings)
    custom = {"URL_MODE": "custom_domain", "CUSTOM_DOMAIN": "cdn.example.com", **too_long}
    assert ids({**GOOD, **custom}, settings) == set()
