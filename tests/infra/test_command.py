"""manage.py deploy_thumbnail_stack end to end: offline modes, moto deploys, readable errors."""

from __future__ import annotations

import json

import botocore.session
import pytest
from cfnlint.api import ManualArgs, lint
from django.core.management import CommandError

from async_image_upload.infra.template import LIFECYCLE_TEMP_RULE_ID, NOTIFICATION_ID
from tests.infra.deploy_command import run
from tests.infra.moto_support import (  # noqa: F401 (an autouse fixture)
    MOTO_UNSUPPORTED_RESOURCES,
    moto_requests_come_over_tls,
)

pytestmark = pytest.mark.filterwarnings(MOTO_UNSUPPORTED_RESOURCES)


@pytest.fixture
def no_aws_calls(monkeypatch):
    """Any attempt to make a boto3/botocore client fails the test."""

    def refuse(*args, **kwargs):
        raise AssertionError("an AWS client was created")

    monkeypatch.setattr(botocore.session.Session, "create_client", refuse)


@pytest.mark.parametrize("suffix", [".yaml", ".json"])
def test_dry_run_output_writes_a_lint_clean_template_without_aws(no_aws_calls, tmp_path, suffix):
    path = tmp_path / f"template{suffix}"
    output = run("--dry-run", "--output", str(path), "--arch", "x86_64")
    assert f"Wrote {path}" in output
    assert "Dry run (no AWS calls)" in output
    assert "AWS::Lambda::Function" in output
    body = path.read_text()
    assert [m for m in lint(body, config=ManualArgs(regions=["us-east-1"]))] == []
    assert "test-bucket" in body  # BUCKET from tests/settings.py


def test_dry_run_for_an_existing_bucket_shows_what_it_would_merge(no_aws_calls):
    output = run("--dry-run", "--existing-bucket", "legacy-photos")
    assert NOTIFICATION_ID in output
    assert LIFECYCLE_TEMP_RULE_ID in output
    assert '"Value": "temp/"' in output
    assert "AWS::S3::Bucket " not in output


def test_bad_settings_are_a_command_error(no_aws_calls, settings):
    settings.ASYNC_IMAGE_UPLOAD = {**settings.ASYNC_IMAGE_UPLOAD, "IMAGE_PREFIX": "temp/out/"}
    with pytest.raises(CommandError, match="lies under TEMP_PREFIX"):
        run("--dry-run")


def test_unknown_region_is_a_command_error(aws):
    with pytest.raises(CommandError, match="Unknown AWS region 'mars-north-1'"):
        run("--region", "mars-north-1", "--yes")


def test_missing_credentials_are_a_command_error(aws, monkeypatch):
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    with pytest.raises(CommandError, match="No AWS credentials found"):
        run("--endpoint-url", aws, "--yes", "--zip", "/nonexistent.zip")


def test_deploy_new_bucket_prints_outputs_and_settings_but_never_the_secret(
    aws, clients, source_only_zip
):
    origin = "https://app.example.com"
    deploy_args = ["--endpoint-url", aws, "--yes", "--zip", str(source_only_zip.path),
                   "--new-bucket", "fresh-uploads", "--cors-origin", origin]  # fmt: skip
    output = run(*deploy_args)
    assert "Stack async-image-upload: created." in output
    assert "'BUCKET': 'fresh-uploads'" in output
    assert "'CALLBACK_URL': 'https://testserver/uploads/callback/'" in output
    from async_image_upload.conf import upload_settings

    assert upload_settings.callback_secrets[0] not in output
    clients("s3").head_bucket(Bucket="fresh-uploads")
    artifacts = clients("s3").list_objects_v2(
        Bucket="async-image-upload-artifacts-123456789012-us-east-1"
    )
    assert [o["Key"] for o in artifacts["Contents"]] == [
        f"lambda/async-image-upload/arm64/{source_only_zip.sha256}.zip"
    ]
    # Deploying the same thing again is a no-op, not an error.
    again = run(*deploy_args)
    assert "No changes" in again
    checked = run("--endpoint-url", aws, "--check", "--new-bucket", "fresh-uploads",
                  "--cors-origin", "https://app.example.com")  # fmt: skip
    assert "matches the settings" in checked


def test_new_bucket_that_already_exists_points_to_existing_bucket_mode(
    aws, clients, source_only_zip
):
    clients("s3").create_bucket(Bucket="already-here")
    with pytest.raises(CommandError, match="--existing-bucket already-here"):
        run("--endpoint-url", aws, "--yes", "--zip", str(source_only_zip.path),
            "--new-bucket", "already-here")  # fmt: skip


def test_existing_bucket_merge_keeps_other_notifications_and_rules(
    aws, clients, source_only_zip, legacy_bucket
):
    output = run("--endpoint-url", aws, "--yes", "--zip", str(source_only_zip.path),
                 "--existing-bucket", "legacy-photos", "--temp-expiration-days", "2")  # fmt: skip
    assert "Stack async-image-upload: created." in output
    # The bare moto bucket has no public access block: the user is told the exact fix.
    assert "aws s3api put-public-access-block --bucket legacy-photos" in output
    assert "aws s3api put-bucket-ownership-controls --bucket legacy-photos" in output

    s3 = clients("s3")
    notification = s3.get_bucket_notification_configuration(Bucket="legacy-photos")
    assert [q["QueueArn"] for q in notification["QueueConfigurations"]] == [legacy_bucket["queue"]]
    functions = {c["Id"]: c for c in notification["LambdaFunctionConfigurations"]}
    assert functions["docs"]["LambdaFunctionArn"] == legacy_bucket["function"]
    ours = functions[NOTIFICATION_ID]
    assert ours["LambdaFunctionArn"].endswith(":function:async-image-upload-thumbnails")
    # S3 reports filter rule names capitalised ("Prefix"); compare case-insensitively.
    (rule,) = ours["Filter"]["Key"]["FilterRules"]
    assert (rule["Name"].lower(), rule["Value"]) == ("prefix", "temp/")
    rules = {
        r["ID"]: r for r in s3.get_bucket_lifecycle_configuration(Bucket="legacy-photos")["Rules"]
    }
    assert rules["old-logs"]["Expiration"] == {"Days": 30}
    assert rules[LIFECYCLE_TEMP_RULE_ID]["Expiration"] == {"Days": 2}

    # Tearing down takes only our entries off the bucket.
    run("--endpoint-url", aws, "--delete", "--existing-bucket", "legacy-photos")
    notification = s3.get_bucket_notification_configuration(Bucket="legacy-photos")
    assert [c["Id"] for c in notification["LambdaFunctionConfigurations"]] == ["docs"]
    assert [q["Id"] for q in notification["QueueConfigurations"]] == ["audit"]
    rules = s3.get_bucket_lifecycle_configuration(Bucket="legacy-photos")["Rules"]
    assert [r["ID"] for r in rules] == ["old-logs"]


def test_overlapping_notification_is_refused_before_anything_is_deployed(
    aws, clients, source_only_zip, legacy_bucket
):
    s3 = clients("s3")
    current = s3.get_bucket_notification_configuration(Bucket="legacy-photos")
    current.pop("ResponseMetadata")
    current["QueueConfigurations"].append(
        {"Id": "everything", "QueueArn": legacy_bucket["queue"], "Events": ["s3:ObjectCreated:Put"]}
    )
    s3.put_bucket_notification_configuration(
        Bucket="legacy-photos", NotificationConfiguration=current
    )
    with pytest.raises(CommandError, match=r"'everything'.*overlaps the thumbnail trigger"):
        run("--endpoint-url", aws, "--yes", "--zip", str(source_only_zip.path),
            "--existing-bucket", "legacy-photos")  # fmt: skip
    assert clients("cloudformation").list_stacks()["StackSummaries"] == []
    assert (
        json.dumps(s3.get_bucket_notification_configuration(Bucket="legacy-photos")).count(
            NOTIFICATION_ID
        )
        == 0
    )


def test_the_callback_secret_goes_to_secrets_manager_and_the_function_gets_only_its_arn(
    aws, clients, source_only_zip, settings
):
    from async_image_upload.conf import upload_settings

    deploy_args = ["--endpoint-url", aws, "--yes", "--zip", str(source_only_zip.path),
                   "--new-bucket", "fresh-uploads"]  # fmt: skip
    settings.ASYNC_IMAGE_UPLOAD = {**settings.ASYNC_IMAGE_UPLOAD, "CALLBACK_SECRETS": ["a" * 64]}
    output = run(*deploy_args)
    assert "Callback secret created in Secrets Manager" in output
    secrets = clients("secretsmanager")
    name = "async-image-upload/async-image-upload/callback-secret"
    stored = secrets.get_secret_value(SecretId=name)
    assert stored["SecretString"] == "a" * 64
    function = clients("lambda").get_function(FunctionName="async-image-upload-thumbnails")
    env = function["Configuration"]["Environment"]["Variables"]
    assert "CALLBACK_SECRET" not in env
    assert env["CALLBACK_SECRET_ARN"] == stored["ARN"]
    assert env["CALLBACK_SECRET_VERSION"] == stored["VersionId"]
    assert "a" * 64 not in json.dumps(function, default=str)
    assert "a" * 64 not in output

    # A version written outside the command is not what the function reads.
    secrets.put_secret_value(SecretId=name, SecretString="a" * 64)
    with pytest.raises(CommandError, match=r"reads version .* not the current"):
        run("--endpoint-url", aws, "--check", "--new-bucket", "fresh-uploads")

    # Rotation, step 2 (docs/deploy.md): the new secret first, the old still accepted.
    settings.ASYNC_IMAGE_UPLOAD = {
        **settings.ASYNC_IMAGE_UPLOAD,
        "CALLBACK_SECRETS": ["b" * 64, "a" * 64],
    }
    assert upload_settings.callback_secrets[0] == "b" * 64
    checked = None
    with pytest.raises(CommandError, match="callback secret in Secrets Manager is not the first"):
        checked = run("--endpoint-url", aws, "--check", "--new-bucket", "fresh-uploads")
    assert checked is None
    output = run(*deploy_args)
    assert "Callback secret updated in Secrets Manager" in output
    rotated = secrets.get_secret_value(SecretId=name)
    assert rotated["SecretString"] == "b" * 64
    assert rotated["VersionId"] != stored["VersionId"]
    assert "Stack async-image-upload: updated." in output  # the new version reaches the function

    run("--endpoint-url", aws, "--delete", "--new-bucket", "fresh-uploads")
    assert "DeletedDate" in secrets.describe_secret(SecretId=name)


def test_a_rolled_back_stack_is_refused_before_the_package_is_built_or_uploaded(
    aws, clients, monkeypatch
):
    from async_image_upload.infra import aws_steps, package

    # moto cannot fail a resource on demand; fake only the status read (as
    # test_deploy_moto does) and fail the test if the package is built.
    monkeypatch.setattr(
        aws_steps, "describe_stack", lambda cf, name: {"StackStatus": "ROLLBACK_COMPLETE"}
    )

    def no_build(**kwargs):
        raise AssertionError("the package was built")

    monkeypatch.setattr(package, "build_lambda_zip", no_build)
    with pytest.raises(CommandError) as refused:
        run("--endpoint-url", aws, "--yes", "--new-bucket", "fresh-uploads")
    message = str(refused.value)
    assert "stack async-image-upload is in ROLLBACK_COMPLETE and cannot be updated" in message
    assert "delete it (manage.py deploy_thumbnail_stack --delete" in message
    assert clients("s3").list_buckets()["Buckets"] == []
