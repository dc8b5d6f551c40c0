"""Existing-bucket mode against moto's server over HTTP: drift, stale triggers, bucket checks.

moto does not apply a template's bucket NotificationConfiguration (see
test_deploy_moto.py), so where a test needs the trigger CloudFormation would
have put on a new bucket, it puts that document itself: a random Id and the
filter rule name capitalised, as S3 answers it.
"""

from __future__ import annotations

import json
import zipfile

import botocore.client
import pytest
from django.core.management import CommandError

from async_image_upload.infra import existing_bucket
from async_image_upload.infra.bucket_inspect import tls_statement_to_merge
from async_image_upload.infra.bucket_merge import (
    LIFECYCLE_TEMP_MARKERS_RULE_ID,
    merge_notifications,
    normalise_notification,
    our_notification,
)
from async_image_upload.infra.template import LIFECYCLE_TEMP_RULE_ID, NOTIFICATION_ID
from tests.infra.deploy_command import run

from .conftest import make_config
from .moto_support import (  # noqa: F401 (an autouse fixture)
    MOTO_UNSUPPORTED_RESOURCES,
    moto_requests_come_over_tls,
)

pytestmark = pytest.mark.filterwarnings(MOTO_UNSUPPORTED_RESOURCES)
OUR_FUNCTION = "arn:aws:lambda:us-east-1:123456789012:function:async-image-upload-thumbnails"


@pytest.fixture
def s3_calls(monkeypatch):
    """AWS operations made through any botocore client (still over HTTP), and S3's spelling.

    moto reads filter rule names back as written; S3 answers "Prefix"/"Suffix"
    whatever was written, which is what made every --check report drift. The
    reads are capitalised here the way S3 does it.
    """
    calls: list[str] = []
    real = botocore.client.BaseClient._make_api_call

    def record(self, operation_name, api_params):
        calls.append(operation_name)
        response = real(self, operation_name, api_params)
        if operation_name == "GetBucketNotificationConfiguration":
            for kind in ("TopicConfigurations", "QueueConfigurations",
                         "LambdaFunctionConfigurations"):  # fmt: skip
                for configuration in response.get(kind, []):
                    for rule in (
                        configuration.get("Filter", {}).get("Key", {}).get("FilterRules", [])
                    ):
                        rule["Name"] = rule["Name"].capitalize()
        return response

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", record)
    return calls


def cloudformation_trigger(function_arn: str, prefix: str = "temp/") -> dict:
    """The trigger a new-bucket stack leaves on the bucket: CloudFormation's random Id."""
    return {
        "Id": "NjU0MjFhYzgtMmQ3Ni00ZjFiLWIzOTUtYjFkOTYzNjJkNWE1",
        "LambdaFunctionArn": function_arn,
        "Events": ["s3:ObjectCreated:*"],
        "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": prefix}]}},
    }


# 1. --check and redeploys: S3's "Prefix" is not drift, and nothing is rewritten.


def test_filter_name_case_and_order_are_not_a_change():
    ours = our_notification(OUR_FUNCTION, "temp/")
    as_s3_returns = {
        "QueueConfigurations": [{"Id": "q", "QueueArn": "arn:q", "Events": ["s3:ObjectRemoved:*"]}],
        "LambdaFunctionConfigurations": [
            {**ours, "Filter": {"Key": {"FilterRules": [{"Name": "Prefix", "Value": "temp/"}]}}},
            {
                "Id": "a",
                "LambdaFunctionArn": "arn:other",
                "Events": ["s3:ObjectCreated:Copy", "s3:ObjectCreated:Put"],
                "Filter": {"Key": {"FilterRules": [{"Name": "Prefix", "Value": "docs/"}]}},
            },
        ],
    }
    merged = merge_notifications(as_s3_returns, ours)
    assert merged != as_s3_returns  # the raw documents differ ...
    assert normalise_notification(merged) == normalise_notification(as_s3_returns)  # ... S3 not


def test_check_after_an_existing_bucket_deploy_finds_no_drift_and_redeploy_writes_nothing(
    aws, clients, source_only_zip, legacy_bucket, s3_calls
):
    deploy_args = ["--endpoint-url", aws, "--yes", "--zip", str(source_only_zip.path),
                   "--existing-bucket", "legacy-photos"]  # fmt: skip
    run(*deploy_args)
    rule = clients("s3").get_bucket_notification_configuration(Bucket="legacy-photos")[
        "LambdaFunctionConfigurations"
    ][-1]["Filter"]["Key"]["FilterRules"][0]
    assert rule["Name"] == "Prefix"  # what made every --check report drift

    s3_calls.clear()
    checked = run("--endpoint-url", aws, "--check", "--existing-bucket", "legacy-photos")
    assert "notification: up to date" in checked
    assert "lifecycle: up to date" in checked
    assert "matches the settings" in checked

    s3_calls.clear()
    again = run(*deploy_args)
    assert "notification: up to date" in again
    assert "PutBucketNotificationConfiguration" not in s3_calls
    assert "PutBucketLifecycleConfiguration" not in s3_calls


# 2. A deleted new-bucket stack leaves no trigger behind, and a stale one is not a conflict.


def test_new_bucket_teardown_removes_the_trigger_so_the_bucket_can_be_reused(
    aws, clients, source_only_zip, s3_calls
):
    run("--endpoint-url", aws, "--yes", "--zip", str(source_only_zip.path),
        "--new-bucket", "fresh-uploads")  # fmt: skip
    s3 = clients("s3")
    function_arn = clients("lambda").get_function(FunctionName="async-image-upload-thumbnails")[
        "Configuration"
    ]["FunctionArn"]
    other = {"Id": "audit", "LambdaFunctionArn": function_arn.replace("thumbnails", "audit"),
             "Events": ["s3:ObjectRemoved:*"]}  # fmt: skip
    s3.put_bucket_notification_configuration(
        Bucket="fresh-uploads",
        NotificationConfiguration={
            "LambdaFunctionConfigurations": [cloudformation_trigger(function_arn), other]
        },
    )

    output = run("--endpoint-url", aws, "--delete", "--new-bucket", "fresh-uploads")

    assert "Removed the thumbnail trigger from fresh-uploads" in output
    left = s3.get_bucket_notification_configuration(Bucket="fresh-uploads")
    assert [c["Id"] for c in left["LambdaFunctionConfigurations"]] == ["audit"]
    s3.head_bucket(Bucket="fresh-uploads")  # retained
    # The same bucket now deploys in existing-bucket mode.
    reused = run("--endpoint-url", aws, "--yes", "--zip", str(source_only_zip.path),
                 "--existing-bucket", "fresh-uploads")  # fmt: skip
    assert "Stack async-image-upload: created." in reused


def test_a_stale_trigger_for_our_function_is_replaced_not_a_conflict(
    aws, clients, source_only_zip, legacy_bucket, s3_calls
):
    """The stack was deleted with `aws cloudformation delete-stack`: its trigger is still there."""
    s3 = clients("s3")
    current = s3.get_bucket_notification_configuration(Bucket="legacy-photos")
    current.pop("ResponseMetadata")
    current["LambdaFunctionConfigurations"][0]["Filter"]["Key"]["FilterRules"][0]["Name"] = "prefix"
    current["LambdaFunctionConfigurations"].append(cloudformation_trigger(OUR_FUNCTION))
    s3.put_bucket_notification_configuration(
        Bucket="legacy-photos", NotificationConfiguration=current
    )

    output = run("--endpoint-url", aws, "--yes", "--zip", str(source_only_zip.path),
                 "--existing-bucket", "legacy-photos")  # fmt: skip

    assert "replaces the stale trigger(s) 'NjU0" in output
    functions = s3.get_bucket_notification_configuration(Bucket="legacy-photos")[
        "LambdaFunctionConfigurations"
    ]
    assert sorted(c["Id"] for c in functions) == sorted(["docs", NOTIFICATION_ID])


# 3. Versioning, SSE-KMS and region of the existing bucket.


def test_versioned_bucket_expires_noncurrent_originals_and_delete_markers(clients, legacy_bucket):
    s3 = clients("s3")
    s3.put_bucket_versioning(Bucket="legacy-photos", VersioningConfiguration={"Status": "Enabled"})
    config = make_config(bucket_name="legacy-photos", bucket_mode="existing", cors_origins=())
    bucket_plan = existing_bucket.plan(s3, config, OUR_FUNCTION)
    assert any("versioning: Enabled" in line for line in bucket_plan.describe())
    existing_bucket.apply(s3, bucket_plan)

    rules = {
        r["ID"]: r for r in s3.get_bucket_lifecycle_configuration(Bucket="legacy-photos")["Rules"]
    }
    assert rules[LIFECYCLE_TEMP_RULE_ID]["NoncurrentVersionExpiration"] == {"NoncurrentDays": 1}
    assert rules[LIFECYCLE_TEMP_RULE_ID]["Expiration"] == {"Days": 1}
    markers = rules[LIFECYCLE_TEMP_MARKERS_RULE_ID]
    assert markers["Expiration"] == {"ExpiredObjectDeleteMarker": True}
    assert markers["Filter"] == {"Prefix": "temp/"}
    assert "old-logs" in rules
    # Read back, the bucket matches the plan: no drift, nothing to write.
    again = existing_bucket.plan(s3, config, OUR_FUNCTION)
    assert not again.lifecycle_changes

    existing_bucket.remove(s3, "legacy-photos", OUR_FUNCTION)
    rules = s3.get_bucket_lifecycle_configuration(Bucket="legacy-photos")["Rules"]
    assert [r["ID"] for r in rules] == ["old-logs"]


@pytest.mark.parametrize(
    ("key", "warned"),
    [
        ("arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab", True),
        ("1234abcd-12ab-34cd-56ef-1234567890ab", True),
        ("arn:aws:kms:us-east-1:123456789012:alias/aws/s3", False),
        (None, False),
    ],
)
def test_sse_kms_with_a_customer_key_is_warned_about_with_the_fix(clients, key, warned):
    s3 = clients("s3")
    s3.create_bucket(Bucket="kms-photos")
    default = {"SSEAlgorithm": "aws:kms", **({"KMSMasterKeyID": key} if key else {})}
    s3.put_bucket_encryption(
        Bucket="kms-photos",
        ServerSideEncryptionConfiguration={
            "Rules": [{"ApplyServerSideEncryptionByDefault": default}]
        },
    )
    config = make_config(bucket_name="kms-photos", bucket_mode="existing", cors_origins=())
    warnings = [w for w in existing_bucket.plan(s3, config, OUR_FUNCTION).warnings if "KMS" in w]
    if not warned:
        assert warnings == []
        return
    (warning,) = warnings
    assert "aws s3api put-bucket-encryption --bucket kms-photos" in warning
    assert '"SSEAlgorithm":"AES256"' in warning
    assert "--function-name async-image-upload-thumbnails" in warning
    key_arn = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    assert f'"Action":["kms:Decrypt","kms:GenerateDataKey"],"Resource":"{key_arn}"' in warning


def test_a_bucket_in_another_region_is_refused_before_deploying(aws, clients, source_only_zip):
    import boto3

    s3_eu = boto3.client("s3", endpoint_url=aws, region_name="eu-west-1")
    s3_eu.create_bucket(
        Bucket="eu-photos", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
    )
    with pytest.raises(CommandError, match=r"'eu-photos' is in eu-west-1.*--region eu-west-1"):
        run("--endpoint-url", aws, "--yes", "--zip", str(source_only_zip.path),
            "--existing-bucket", "eu-photos")  # fmt: skip
    assert clients("cloudformation").list_stacks()["StackSummaries"] == []


# 4. Readable errors for files the user names.


def test_missing_or_corrupt_zip_is_a_command_error(aws, tmp_path):
    args = ["--endpoint-url", aws, "--yes", "--new-bucket", "fresh-uploads", "--zip"]
    with pytest.raises(CommandError, match=r"--zip .*missing\.zip: no such file"):
        run(*args, str(tmp_path / "missing.zip"))
    corrupt = tmp_path / "corrupt.zip"
    corrupt.write_bytes(b"this is not a zip")
    with pytest.raises(CommandError, match="is not a zip file"):
        run(*args, str(corrupt))
    assert not zipfile.is_zipfile(corrupt)


def test_output_into_a_missing_directory_is_a_command_error(tmp_path, monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("an AWS client was created")

    monkeypatch.setattr("botocore.session.Session.create_client", refuse)
    with pytest.raises(CommandError, match="its directory does not exist"):
        run("--dry-run", "--output", str(tmp_path / "missing" / "template.yaml"))


def test_the_buckets_minimum_transition_size_is_written_back(clients, legacy_bucket, monkeypatch):
    """A bucket set to ``varies_by_storage_class`` keeps it through deploy and teardown.

    moto stores no TransitionDefaultMinimumObjectSize (it always answers S3's
    default), so its lifecycle reads are given the owner's setting here, as S3
    would answer them, and the writes (still sent to moto over HTTP) are recorded.
    tests/strict_s3/test_existing_bucket_lifecycle.py runs the same round trip on
    LocalStack, which stores the setting.
    """
    written: list[str | None] = []
    real = botocore.client.BaseClient._make_api_call

    def owner_setting(self, operation_name, api_params):
        if operation_name == "PutBucketLifecycleConfiguration":
            written.append(api_params.get("TransitionDefaultMinimumObjectSize"))
        response = real(self, operation_name, api_params)
        if operation_name == "GetBucketLifecycleConfiguration":
            response["TransitionDefaultMinimumObjectSize"] = "varies_by_storage_class"
        return response

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", owner_setting)
    s3 = clients("s3")
    config = make_config(bucket_name="legacy-photos", bucket_mode="existing", cors_origins=())
    bucket_plan = existing_bucket.plan(s3, config, OUR_FUNCTION)
    assert bucket_plan.lifecycle_minimum_size == "varies_by_storage_class"
    existing_bucket.apply(s3, bucket_plan)
    existing_bucket.remove(s3, "legacy-photos", OUR_FUNCTION)  # "old-logs" stays: a PUT
    assert written == ["varies_by_storage_class", "varies_by_storage_class"]


def test_a_bucket_policy_without_tls_gets_the_statement_to_merge_and_is_never_written(
    aws, clients, source_only_zip, legacy_bucket
):
    s3 = clients("s3")
    theirs = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "TheirReader",
                "Effect": "Allow",
                "Principal": {"AWS": "arn:aws:iam::123456789012:role/reader"},
                "Action": "s3:GetObject",
                "Resource": "arn:aws:s3:::legacy-photos/public/*",
            }
        ],
    }
    s3.put_bucket_policy(Bucket="legacy-photos", Policy=json.dumps(theirs))
    output = run("--endpoint-url", aws, "--yes", "--zip", str(source_only_zip.path),
                 "--existing-bucket", "legacy-photos")  # fmt: skip
    assert "does not refuse plain-HTTP requests" in output
    statement = tls_statement_to_merge("legacy-photos")
    assert json.dumps(statement, separators=(",", ":")) in output
    assert json.loads(s3.get_bucket_policy(Bucket="legacy-photos")["Policy"]) == theirs

    # Once merged, the warning goes away.
    merged = {**theirs, "Statement": [*theirs["Statement"], statement]}
    s3.put_bucket_policy(Bucket="legacy-photos", Policy=json.dumps(merged))
    config = make_config(bucket_name="legacy-photos", bucket_mode="existing", cors_origins=())
    warnings = existing_bucket.plan(s3, config, OUR_FUNCTION).warnings
    assert [w for w in warnings if "plain-HTTP" in w] == []


def test_a_bucket_without_a_policy_is_warned_too(clients, legacy_bucket):
    config = make_config(bucket_name="legacy-photos", bucket_mode="existing", cors_origins=())
    warnings = existing_bucket.plan(clients("s3"), config, OUR_FUNCTION).warnings
    (warning,) = [w for w in warnings if "plain-HTTP" in w]
    assert '"Condition":{"Bool":{"aws:SecureTransport":"false"}}' in warning


def test_dry_run_for_an_existing_bucket_prints_the_tls_statement():
    output = run("--dry-run", "--existing-bucket", "legacy-photos")
    assert "merge this statement into it" in output
    assert '"aws:SecureTransport": "false"' in output
