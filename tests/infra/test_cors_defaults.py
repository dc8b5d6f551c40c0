"""A new bucket's CORS origins: --cors-origin, else DEPLOY_CORS_ORIGINS, else
CSRF_TRUSTED_ORIGINS; with none, the dry run, the deploy and a system check say
loudly that browsers cannot upload."""

from __future__ import annotations

import pytest
from django.core.checks import Tags, run_checks

from async_image_upload.cors_checks import check_cors_origins
from async_image_upload.infra.config import config_from_settings, default_cors_origins
from async_image_upload.infra.template import build_template
from tests.infra.deploy_command import run


def bucket_cors(config):
    bucket = build_template(config).to_dict()["Resources"]
    (props,) = [r["Properties"] for r in bucket.values() if r["Type"] == "AWS::S3::Bucket"]
    return props.get("CorsConfiguration")


def test_csrf_trusted_origins_become_the_new_buckets_cors_origins(settings) -> None:
    settings.CSRF_TRUSTED_ORIGINS = [
        "https://shop.example.com/",
        "https://*.example.com",
        "https://shop.example.com",
    ]
    assert default_cors_origins() == (
        ("https://shop.example.com", "https://*.example.com"),
        "CSRF_TRUSTED_ORIGINS",
    )
    config = config_from_settings(bucket_name="fresh-uploads")
    (rule,) = bucket_cors(config)["CorsRules"]
    assert rule["AllowedOrigins"] == ["https://shop.example.com", "https://*.example.com"]
    assert rule["AllowedMethods"] == ["POST"]

    output = run("--dry-run", "--new-bucket", "fresh-uploads")
    assert (
        "CORS: browsers may POST uploads from https://shop.example.com, "
        "https://*.example.com (from CSRF_TRUSTED_ORIGINS)."
    ) in output
    assert "WARNING" not in output


def test_deploy_setting_and_option_win_over_csrf(settings) -> None:
    settings.CSRF_TRUSTED_ORIGINS = ["https://shop.example.com"]
    settings.ASYNC_IMAGE_UPLOAD = {
        **settings.ASYNC_IMAGE_UPLOAD,
        "DEPLOY_CORS_ORIGINS": ["https://admin.example.com"],
    }
    output = run("--dry-run", "--new-bucket", "fresh-uploads")
    assert "from https://admin.example.com (from ASYNC_IMAGE_UPLOAD['DEPLOY_CORS_ORIGINS'])" in (
        output
    )
    output = run(
        "--dry-run", "--new-bucket", "fresh-uploads", "--cors-origin", "https://x.example.com"
    )
    assert "from https://x.example.com (from --cors-origin)." in output


def test_no_origins_is_a_loud_warning_in_the_dry_run(settings) -> None:
    settings.CSRF_TRUSTED_ORIGINS = []
    config = config_from_settings(bucket_name="fresh-uploads")
    assert bucket_cors(config) is None
    output = run("--dry-run", "--new-bucket", "fresh-uploads")
    assert "CORS: none. WARNING: the new bucket gets NO CORS rule" in output
    assert output.count("WARNING: the new bucket gets NO CORS rule") == 2  # stderr too


def test_existing_bucket_says_its_cors_is_left_alone(settings) -> None:
    settings.CSRF_TRUSTED_ORIGINS = []
    output = run("--dry-run", "--existing-bucket", "legacy-photos")
    assert "an existing bucket's CORS rules are not changed" in output
    assert "NO CORS rule" not in output


@pytest.mark.parametrize(
    ("csrf", "endpoint", "warned"),
    [
        ([], None, True),
        (["https://shop.example.com"], None, False),
        ([], "http://127.0.0.1:9000", False),  # an emulator: the local stack's own CORS
    ],
)
def test_system_check_w005(settings, csrf, endpoint, warned) -> None:
    settings.CSRF_TRUSTED_ORIGINS = csrf
    settings.ASYNC_IMAGE_UPLOAD = {**settings.ASYNC_IMAGE_UPLOAD, "ENDPOINT_URL": endpoint}
    ids = [message.id for message in check_cors_origins()]
    assert ids == (["async_image_upload.W005"] if warned else [])


def test_w005_is_registered(settings) -> None:
    settings.CSRF_TRUSTED_ORIGINS = []
    # Only this check's tag: newer Django's other checks may query the database.
    messages = run_checks(tags=[Tags.compatibility])
    assert "async_image_upload.W005" in [message.id for message in messages]
