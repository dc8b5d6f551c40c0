"""The emitted template: linted by AWS's own cfn-lint and checkov, and its structure.

These tests are pure (no AWS, no database): build_template takes a config and
returns a troposphere Template.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from cfnlint.api import ManualArgs, lint

from async_image_upload.infra.template import (
    BUCKET,
    FUNCTION,
    HANDLER,
    INVOKE_CONFIG,
    PERMISSION,
    ROLE,
    build_template,
    template_body,
)

from .conftest import make_config

REPO = Path(__file__).resolve().parents[2]


def as_dict(config) -> dict:
    return json.loads(template_body(build_template(config)))


def role_statements(template: dict) -> list[dict]:
    (policy,) = template["Resources"][ROLE]["Properties"]["Policies"]
    return policy["PolicyDocument"]["Statement"]


@pytest.mark.parametrize("fmt", ["json", "yaml"])
def test_cfn_lint_reports_no_errors_and_no_warnings(any_config, fmt):
    body = template_body(build_template(any_config), fmt)
    matches = lint(body, config=ManualArgs(regions=["us-east-1", "eu-west-1", "ap-southeast-2"]))
    errors_and_warnings = [m for m in matches if m.rule.id[0] in "EW"]
    assert errors_and_warnings == [], "\n".join(str(m) for m in errors_and_warnings)


def checkov_cli() -> str | None:
    """checkov pins many packages, so CI may install it in its own venv (.venv-checkov)."""
    for candidate in (REPO / ".venv-checkov/bin/checkov", Path(sys.prefix) / "bin/checkov"):
        if candidate.exists():
            return str(candidate)
    return shutil.which("checkov")


def test_checkov_has_no_failed_checks_and_every_skip_has_a_reason(any_config, tmp_path):
    if checkov_cli() is None:
        if os.environ.get("CI"):
            pytest.fail("checkov is missing in CI: `make test` installs it into .venv-checkov")
        pytest.skip("checkov is not installed (make test installs it into .venv-checkov)")
    path = tmp_path / "template.json"
    path.write_text(template_body(build_template(any_config)))
    result = subprocess.run(
        [
            checkov_cli(),
            "-f",
            str(path),
            "--framework",
            "cloudformation",
            "--skip-download",
            "--output",
            "json",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "BC_SKIP_MAPPING": "TRUE", "CHECKOV_RUN_SCA_PACKAGE_SCAN_V2": "false"},
        check=False,
    )
    report = json.loads(result.stdout)
    assert report["summary"]["failed"] == 0, [
        (c["check_id"], c["resource"]) for c in report["results"]["failed_checks"]
    ]
    assert report["summary"]["passed"] >= 10
    skipped = report["results"]["skipped_checks"]
    assert skipped, "the template documents its deliberate exceptions"
    for check in skipped:
        assert len(check["check_result"]["suppress_comment"]) > 40, check["check_id"]


def test_new_bucket_is_private_encrypted_and_expires_temp_uploads():
    bucket = as_dict(make_config(temp_expiration_days=3))["Resources"][BUCKET]
    props = bucket["Properties"]
    assert props["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    assert props["OwnershipControls"]["Rules"] == [{"ObjectOwnership": "BucketOwnerEnforced"}]
    (sse,) = props["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert sse["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    rules = {rule["Id"]: rule for rule in props["LifecycleConfiguration"]["Rules"]}
    temp_rule = rules["async-image-upload-expire-temp"]
    assert temp_rule["Prefix"] == {"Ref": "TempPath"}
    assert temp_rule["ExpirationInDays"] == {"Ref": "ExpirationDays"}
    assert rules["async-image-upload-abort-multipart"]["AbortIncompleteMultipartUpload"] == {
        "DaysAfterInitiation": 1
    }
    # Uploads are user data: deleting or replacing the stack must not delete them.
    assert bucket["DeletionPolicy"] == bucket["UpdateReplacePolicy"] == "Retain"


def test_parameter_defaults_come_from_the_config():
    params = as_dict(make_config(temp_expiration_days=3, memory_mb=1536, temp_prefix="in/"))[
        "Parameters"
    ]
    assert params["ExpirationDays"]["Default"] == "3"
    assert params["MemorySize"]["Default"] == "1536"
    assert params["TempPath"]["Default"] == "in/"
    assert params["Architecture"]["Default"] == "arm64"
    assert set(params) >= {
        "BucketName", "FunctionName", "TempPath", "MemorySize", "ExpirationDays",
        "Architecture", "Runtime", "CodeBucket", "CodeKey", "CallbackSecretArn",
        "CallbackSecretVersion",
    }  # fmt: skip


def test_cors_allows_browser_posts_from_configured_origins_and_exposes_etag():
    props = as_dict(make_config(cors_origins=("https://a.example", "https://b.example")))[
        "Resources"
    ][BUCKET]["Properties"]
    (rule,) = props["CorsConfiguration"]["CorsRules"]
    assert rule["AllowedOrigins"] == ["https://a.example", "https://b.example"]
    assert rule["AllowedMethods"] == ["POST"]
    assert rule["ExposedHeaders"] == ["ETag"]


def test_no_cors_rules_without_origins():
    props = as_dict(make_config(cors_origins=()))["Resources"][BUCKET]["Properties"]
    assert "CorsConfiguration" not in props


def test_notification_fires_on_object_created_under_the_temp_prefix_only():
    props = as_dict(make_config())["Resources"][BUCKET]["Properties"]
    (notification,) = props["NotificationConfiguration"]["LambdaConfigurations"]
    assert notification["Event"] == "s3:ObjectCreated:*"
    assert notification["Function"] == {"Fn::GetAtt": [FUNCTION, "Arn"]}
    assert notification["Filter"]["S3Key"]["Rules"] == [
        {"Name": "prefix", "Value": {"Ref": "TempPath"}}
    ]


def test_role_is_least_privilege(any_config):
    template = as_dict(any_config)
    statements = role_statements(template)
    by_sid = {s["Sid"]: s for s in statements}
    assert by_sid["ReadAndDeleteUploadedSources"]["Action"] == ["s3:GetObject", "s3:DeleteObject"]
    assert by_sid["ReadAndDeleteUploadedSources"]["Resource"] == {
        "Fn::Sub": "arn:${AWS::Partition}:s3:::${BucketName}/${TempPath}*"
    }
    assert by_sid["WriteGeneratedImages"]["Action"] == "s3:PutObject"
    assert by_sid["WriteGeneratedImages"]["Resource"] == {
        "Fn::Sub": "arn:${AWS::Partition}:s3:::${BucketName}/${ImagePath}*"
    }
    # The handler reads manifests on every event, and needs ListBucket so S3 says 404
    # (not 403) for a key that is not there.
    assert by_sid["ReadOwnManifests"]["Action"] == "s3:GetObject"
    assert by_sid["ReadOwnManifests"]["Resource"] == {
        "Fn::Sub": "arn:${AWS::Partition}:s3:::${BucketName}/${ImagePath}*/manifest.json"
    }
    # A run that loses the conditional claim reads it (claim.json only, nothing else).
    assert by_sid["ReadOwnClaims"]["Action"] == "s3:GetObject"
    assert by_sid["ReadOwnClaims"]["Resource"] == {
        "Fn::Sub": "arn:${AWS::Partition}:s3:::${BucketName}/${ImagePath}*/claim.json"
    }
    assert by_sid["TellMissingKeysFromForbiddenOnes"] == {
        "Sid": "TellMissingKeysFromForbiddenOnes",
        "Effect": "Allow",
        "Action": "s3:ListBucket",
        "Resource": {"Fn::Sub": "arn:${AWS::Partition}:s3:::${BucketName}"},
    }
    assert by_sid["WriteOwnLogs"]["Resource"] == {
        "Fn::GetAtt": ["ThumbnailFunctionLogGroup", "Arn"]
    }
    assert by_sid["ReadCallbackSecret"] == {
        "Sid": "ReadCallbackSecret",
        "Effect": "Allow",
        "Action": "secretsmanager:GetSecretValue",
        "Resource": {"Ref": "CallbackSecretArn"},
    }
    for statement in statements:
        assert statement["Effect"] == "Allow"
        if statement["Sid"] != "SendTraces":  # X-Ray takes no resource (--tracing only)
            assert statement["Resource"] != "*"
        actions = (
            statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        )
        assert all("*" not in action for action in actions)
    role = template["Resources"][ROLE]["Properties"]
    assert "ManagedPolicyArns" not in role


def test_no_public_principal_is_ever_allowed_anything(any_config):
    """``Principal: "*"`` appears only in Deny statements (the TLS-only ones)."""
    resources = as_dict(any_config)["Resources"]
    policies = [
        resource["Properties"]["PolicyDocument"]
        for resource in resources.values()
        if resource["Type"] in ("AWS::S3::BucketPolicy", "AWS::SQS::QueuePolicy")
    ]
    assert policies
    for policy in policies:
        for statement in policy["Statement"]:
            if statement.get("Principal") in ("*", {"AWS": "*"}):
                assert statement["Effect"] == "Deny", statement


def test_permission_is_scoped_to_the_bucket_and_account_without_a_cycle(any_config):
    template = as_dict(any_config)
    permission = template["Resources"][PERMISSION]
    props = permission["Properties"]
    assert props["Principal"] == "s3.amazonaws.com"
    assert props["SourceAccount"] == {"Ref": "AWS::AccountId"}
    # Built from the parameter, not GetAtt on the bucket: that would close a cycle.
    assert props["SourceArn"] == {"Fn::Sub": "arn:${AWS::Partition}:s3:::${BucketName}"}
    assert "DependsOn" not in permission
    if any_config.is_new_bucket:
        # S3 checks it may invoke the function when the notification is set.
        assert template["Resources"][BUCKET]["DependsOn"] == [PERMISSION]
    else:
        assert BUCKET not in template["Resources"]
        assert "ExpirationDays" not in template["Parameters"]


def test_function_settings_and_environment_mirror_django(any_config):
    template = as_dict(any_config)
    props = template["Resources"][FUNCTION]["Properties"]
    assert props["Handler"] == HANDLER
    assert props["Architectures"] == [{"Ref": "Architecture"}]
    assert template["Parameters"]["Architecture"]["Default"] == any_config.architecture
    env = props["Environment"]["Variables"]
    assert env == {
        "BLUR": "true",
        "BLUR_RADIUS": "20",
        "CALLBACK_SECRET_ARN": {"Ref": "CallbackSecretArn"},
        "CALLBACK_SECRET_VERSION": {"Ref": "CallbackSecretVersion"},
        "CALLBACK_URL": "https://app.example.com/uploads/callback/",
        "IMAGE_FOLDER": {"Ref": "ImagePath"},
        "MAX_SOURCE_BYTES": str(20 * 1024 * 1024),
        "OUTPUT_CACHE_CONTROL": any_config.cache_control,
        "TEMP_FOLDER": {"Ref": "TempPath"},
        "THUMB_DIMENSION_LARGE": "400",
        "THUMB_DIMENSION_MEDIUM": "100",
        "THUMB_DIMENSION_SMALL": "50",
    }
    assert props["LoggingConfig"] == {
        "LogGroup": {"Ref": "ThumbnailFunctionLogGroup"},
        "LogFormat": "JSON",
    }
    assert "ReservedConcurrentExecutions" not in props


def test_the_callback_secret_is_named_by_arn_never_held_as_a_value():
    config = make_config()
    template = as_dict(config)
    parameters = template["Parameters"]
    assert "CallbackSecret" not in parameters
    assert "Default" not in parameters["CallbackSecretArn"]
    assert parameters["CallbackSecretArn"]["AllowedPattern"].startswith(
        "^arn:aws[a-z-]*:secretsmanager:"
    )
    env = template["Resources"][FUNCTION]["Properties"]["Environment"]["Variables"]
    assert "CALLBACK_SECRET" not in env
    from django.conf import settings

    from async_image_upload.conf import derive_callback_secret

    assert derive_callback_secret(settings.SECRET_KEY) not in template_body(build_template(config))
    assert all("Secret" not in name for name in template["Outputs"])


def test_failed_events_go_to_an_encrypted_queue():
    template = as_dict(make_config(max_retry_attempts=1, max_event_age_seconds=600))
    invoke = template["Resources"][INVOKE_CONFIG]["Properties"]
    assert invoke["MaximumRetryAttempts"] == 1
    assert invoke["MaximumEventAgeInSeconds"] == 600
    assert invoke["DestinationConfig"]["OnFailure"]["Destination"] == {
        "Fn::GetAtt": ["ThumbnailDeadLetterQueue", "Arn"]
    }
    queue = template["Resources"]["ThumbnailDeadLetterQueue"]["Properties"]
    assert queue["SqsManagedSseEnabled"] is True


def test_reserved_concurrency_is_opt_in():
    props = as_dict(make_config(reserved_concurrency=5))["Resources"][FUNCTION]
    assert props["Properties"]["ReservedConcurrentExecutions"] == 5
    skipped = {s["id"] for s in props["Metadata"]["checkov"]["skip"]}
    assert "CKV_AWS_115" not in skipped


def test_outputs_name_bucket_function_and_queue(any_config):
    outputs = as_dict(any_config)["Outputs"]
    assert outputs["BucketName"]["Value"] == {"Ref": "BucketName"}
    assert outputs["FunctionArn"]["Value"] == {"Fn::GetAtt": [FUNCTION, "Arn"]}
    assert outputs["DeadLetterQueueUrl"]["Value"] == {"Ref": "ThumbnailDeadLetterQueue"}


def test_the_settings_it_was_built_from_are_recorded_in_metadata():
    meta = as_dict(make_config(variants=("64x64", "original")))["Metadata"]["AsyncImageUpload"]
    assert meta["VARIANTS"] == ["64x64", "original"]
    assert meta["TEMP_PREFIX"] == "temp/"
    assert meta["BucketMode"] == "new"


def test_same_config_gives_the_same_template_text():
    assert template_body(build_template(make_config()), "yaml") == template_body(
        build_template(make_config()), "yaml"
    )
