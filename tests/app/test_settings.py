from __future__ import annotations

import pytest
from django.test import override_settings

from async_image_upload.conf import DEFAULTS, derive_callback_secret, upload_settings


def test_defaults_apply_when_unset() -> None:
    assert upload_settings.TEMP_PREFIX == "temp/"
    assert upload_settings.IMAGE_PREFIX == "image/"
    assert upload_settings.VARIANTS == ["50x50", "100x100", "400x400", "original"]
    assert upload_settings.BLUR is True and upload_settings.BLUR_RADIUS == 20
    assert DEFAULTS["MAX_UPLOAD_BYTES"] == upload_settings.MAX_UPLOAD_BYTES


def test_user_values_override_and_reload_on_setting_changed() -> None:
    assert upload_settings.BUCKET == "test-bucket"
    with override_settings(ASYNC_IMAGE_UPLOAD={"BUCKET": "other", "TEMP_PREFIX": "incoming/"}):
        assert upload_settings.BUCKET == "other"
        assert upload_settings.TEMP_PREFIX == "incoming/"
    assert upload_settings.BUCKET == "test-bucket"
    assert upload_settings.TEMP_PREFIX == "temp/"


def test_s3_drops_its_cached_clients_when_the_settings_change(settings) -> None:
    """s3 listens to setting_changed itself; conf does not reach into it."""
    from async_image_upload import s3

    client = s3.api_client()
    assert s3.api_client() is client
    with override_settings(ASYNC_IMAGE_UPLOAD=dict(settings.ASYNC_IMAGE_UPLOAD)):
        assert s3.api_client() is not client  # same values, yet a fresh client
    kept = s3.api_client()
    with override_settings(SOME_OTHER_SETTING=True):
        assert s3.api_client() is kept


def test_bucket_falls_back_to_django_storages_setting() -> None:
    with override_settings(ASYNC_IMAGE_UPLOAD={}, AWS_STORAGE_BUCKET_NAME="from-storages"):
        assert upload_settings.BUCKET == "from-storages"


def test_unknown_setting_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="Unknown ASYNC_IMAGE_UPLOAD setting"):
        _ = upload_settings.BUCKKET


def test_dotted_paths_are_imported() -> None:
    from rest_framework.permissions import IsAuthenticated

    assert [IsAuthenticated] == upload_settings.PERMISSION_CLASSES


def test_callback_secret_is_derived_from_secret_key_and_fallbacks(settings) -> None:
    settings.SECRET_KEY = "current-key"
    settings.SECRET_KEY_FALLBACKS = ["old-key"]
    secrets = upload_settings.callback_secrets
    assert secrets == [derive_callback_secret("current-key"), derive_callback_secret("old-key")]
    assert "current-key" not in secrets[0]
    assert len(secrets[0]) == 64


def test_explicit_callback_secrets_win(settings) -> None:
    settings.ASYNC_IMAGE_UPLOAD = {"CALLBACK_SECRETS": ["new", "old"]}
    assert upload_settings.callback_secrets == ["new", "old"]
