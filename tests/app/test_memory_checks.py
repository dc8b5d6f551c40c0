"""System check W004 and the deploy warning: the Lambda's memory holds what the settings allow."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from async_image_upload._memory_table import worst_case
from async_image_upload.conf import DEFAULTS
from async_image_upload.infra.config import DEFAULT_MEMORY_MB
from async_image_upload.memory_checks import CHECK_ID, check_lambda_memory

GOOD = {"BUCKET": "b", "CALLBACK_URL": "https://example.com/api/uploads/callback/"}


def ids(settings, **overrides) -> set[str]:
    settings.ASYNC_IMAGE_UPLOAD = {**GOOD, **overrides}
    return {message.id for message in check_lambda_memory()}


def test_default_memory_holds_the_largest_input_the_default_caps_allow() -> None:
    worst = worst_case(
        DEFAULTS["ALLOWED_CONTENT_TYPES"], DEFAULTS["VARIANTS"], DEFAULTS["MAX_UPLOAD_BYTES"]
    )
    assert worst is not None and worst.needed_mb <= DEFAULT_MEMORY_MB


def test_defaults_raise_no_warning(settings) -> None:
    assert ids(settings) == set()


def test_too_little_memory_for_the_allowed_formats_warns(settings) -> None:
    settings.ASYNC_IMAGE_UPLOAD = {**GOOD, "DEPLOY_MEMORY_MB": 512}
    (warning,) = check_lambda_memory()
    assert warning.id == CHECK_ID == "async_image_upload.W004"
    assert "image/webp" in warning.msg and "too_much_memory" in warning.msg
    assert "1152 MB" in warning.msg


def test_dropping_the_expensive_format_fits_a_smaller_function(settings) -> None:
    jpeg_png = ["image/jpeg", "image/png"]
    assert ids(settings, DEPLOY_MEMORY_MB=768, ALLOWED_CONTENT_TYPES=jpeg_png) == set()
    assert ids(settings, DEPLOY_MEMORY_MB=512, ALLOWED_CONTENT_TYPES=jpeg_png) == {CHECK_ID}


def test_measured_memory_is_not_second_guessed(settings) -> None:
    assert ids(settings, DEPLOY_MEMORY_MB="recommended") == set()


@pytest.mark.parametrize(("memory", "warned"), [("512", True), (str(DEFAULT_MEMORY_MB), False)])
def test_deploy_command_warns_before_deploying(settings, tmp_path, memory, warned) -> None:
    settings.ASYNC_IMAGE_UPLOAD = {**GOOD, "BUCKET": "my-bucket"}
    err = StringIO()
    call_command(
        "deploy_thumbnail_stack", "--dry-run", "--memory", memory, stdout=StringIO(), stderr=err
    )
    assert ("too_much_memory" in err.getvalue()) is warned
    assert ("--memory" in err.getvalue()) is warned
