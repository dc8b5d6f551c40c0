"""Issue 14 in the emitted template: TLS-only policies, lifecycle, alarms, logs, tracing.

Pure like test_template.py: a config in, a template dict out, linted by cfn-lint
and checkov in the variants the options add (alarm topic, tracing).
"""

from __future__ import annotations

import pytest
from cfnlint.api import ManualArgs, lint

from async_image_upload.infra.template import (
    ALARM_SUBSCRIPTION,
    ALARM_TOPIC,
    BUCKET,
    BUCKET_POLICY,
    DLQ,
    DLQ_ALARM,
    DLQ_POLICY,
    ERRORS_ALARM,
    FUNCTION,
    LIFECYCLE_TEMP_MARKERS_RULE_ID,
    LIFECYCLE_TEMP_RULE_ID,
    THROTTLES_ALARM,
    build_template,
    template_body,
)

from .conftest import make_config
from .test_template import as_dict, role_statements
from .test_template import test_checkov_has_no_failed_checks_and_every_skip_has_a_reason as checkov

TLS_CONDITION = {"Bool": {"aws:SecureTransport": "false"}}


@pytest.fixture(
    params=[("new", True, True), ("existing", True, False), ("new", False, True)],
    ids=["new-alarm-email-tracing", "existing-alarm-email", "new-tracing"],
)
def options_config(request):
    mode, email, tracing = request.param
    return make_config(
        bucket_mode=mode, alarm_email="ops@example.com" if email else "", tracing=tracing
    )


def test_cfn_lint_is_clean_with_the_optional_resources(options_config):
    """No errors, no warnings, and no informational findings either."""
    body = template_body(build_template(options_config), "yaml")
    config = ManualArgs(regions=["us-east-1", "eu-west-1"], include_checks=["I"])
    assert [str(m) for m in lint(body, config=config)] == []


def test_checkov_is_clean_with_the_optional_resources(options_config, tmp_path):
    checkov(options_config, tmp_path)


def test_the_new_bucket_refuses_requests_without_tls():
    resources = as_dict(make_config())["Resources"]
    policy = resources[BUCKET_POLICY]["Properties"]
    assert policy["Bucket"] == {"Ref": BUCKET}
    (statement,) = policy["PolicyDocument"]["Statement"]
    assert statement == {
        "Sid": "DenyRequestsWithoutTLS",
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": [
            {"Fn::Sub": "arn:${AWS::Partition}:s3:::${BucketName}"},
            {"Fn::Sub": "arn:${AWS::Partition}:s3:::${BucketName}/*"},
        ],
        "Condition": TLS_CONDITION,
    }


def test_an_existing_bucket_gets_no_policy_from_the_stack():
    """We never overwrite a customer's bucket policy; the command prints what to merge."""
    resources = as_dict(make_config(bucket_mode="existing"))["Resources"]
    assert BUCKET_POLICY not in resources
    assert all(r["Type"] != "AWS::S3::BucketPolicy" for r in resources.values())


def test_the_dead_letter_queue_refuses_requests_without_tls(any_config):
    policy = as_dict(any_config)["Resources"][DLQ_POLICY]["Properties"]
    assert policy["Queues"] == [{"Ref": DLQ}]
    (statement,) = policy["PolicyDocument"]["Statement"]
    assert statement["Effect"] == "Deny"
    assert statement["Action"] == "sqs:*"
    assert statement["Resource"] == {"Fn::GetAtt": [DLQ, "Arn"]}
    assert statement["Condition"] == TLS_CONDITION


def test_new_bucket_lifecycle_expires_noncurrent_versions_and_delete_markers():
    rules = {
        rule["Id"]: rule
        for rule in as_dict(make_config())["Resources"][BUCKET]["Properties"][
            "LifecycleConfiguration"
        ]["Rules"]
    }
    temp = rules[LIFECYCLE_TEMP_RULE_ID]
    assert temp["NoncurrentVersionExpiration"] == {"NoncurrentDays": 1}
    markers = rules[LIFECYCLE_TEMP_MARKERS_RULE_ID]
    assert markers == {
        "Id": LIFECYCLE_TEMP_MARKERS_RULE_ID,
        "Status": "Enabled",
        "Prefix": {"Ref": "TempPath"},
        "ExpiredObjectDeleteMarker": True,
    }


def test_the_new_bucket_rules_match_the_existing_bucket_rules():
    """Both modes expire the same things (the existing-bucket rules are API documents)."""
    from async_image_upload.infra.bucket_merge import our_lifecycle_rules

    template_rules = as_dict(make_config())["Resources"][BUCKET]["Properties"][
        "LifecycleConfiguration"
    ]["Rules"]
    api_rules = our_lifecycle_rules("temp/", 1)
    assert [r["Id"] for r in template_rules if r["Id"] != "async-image-upload-abort-multipart"] == [
        r["ID"] for r in api_rules
    ]
    assert (
        api_rules[0]["NoncurrentVersionExpiration"]
        == template_rules[0]["NoncurrentVersionExpiration"]
    )
    assert api_rules[1]["Expiration"] == {"ExpiredObjectDeleteMarker": True}


def test_list_bucket_stays_unconditioned_so_a_missing_key_is_a_404():
    """docs/deploy.md: AWS documents 404 only for a caller with s3:ListBucket on the bucket;
    an s3:prefix condition is absent from a GetObject request's context, so it would not match.
    """
    (statement,) = [
        s for s in role_statements(as_dict(make_config())) if s["Action"] == "s3:ListBucket"
    ]
    assert "Condition" not in statement


def test_alarms_watch_dead_letters_errors_and_throttles_without_actions_by_default():
    resources = as_dict(make_config())["Resources"]
    dlq = resources[DLQ_ALARM]["Properties"]
    assert dlq["Namespace"] == "AWS/SQS"
    assert dlq["MetricName"] == "ApproximateNumberOfMessagesVisible"
    assert dlq["Dimensions"] == [{"Name": "QueueName", "Value": {"Fn::GetAtt": [DLQ, "QueueName"]}}]
    assert (dlq["ComparisonOperator"], dlq["Threshold"]) == ("GreaterThanThreshold", 0)
    for alarm, metric in ((ERRORS_ALARM, "Errors"), (THROTTLES_ALARM, "Throttles")):
        props = resources[alarm]["Properties"]
        assert (props["Namespace"], props["MetricName"]) == ("AWS/Lambda", metric)
        assert props["Dimensions"] == [{"Name": "FunctionName", "Value": {"Ref": FUNCTION}}]
        assert "AlarmActions" not in props
    assert ALARM_TOPIC not in resources


def test_alarm_email_creates_a_topic_the_alarms_notify():
    resources = as_dict(make_config(alarm_email="ops@example.com"))["Resources"]
    assert resources[ALARM_TOPIC]["Type"] == "AWS::SNS::Topic"
    subscription = resources[ALARM_SUBSCRIPTION]["Properties"]
    assert subscription == {
        "TopicArn": {"Ref": ALARM_TOPIC},
        "Protocol": "email",
        "Endpoint": "ops@example.com",
    }
    for alarm in (DLQ_ALARM, ERRORS_ALARM, THROTTLES_ALARM):
        assert resources[alarm]["Properties"]["AlarmActions"] == [{"Ref": ALARM_TOPIC}]


def test_a_malformed_alarm_email_is_refused():
    from async_image_upload.infra.config import ConfigError

    with pytest.raises(ConfigError, match="not an e-mail address"):
        make_config(alarm_email="ops-at-example")


def test_tracing_is_opt_in_and_grants_only_the_xray_writes():
    default = as_dict(make_config())
    assert default["Resources"][FUNCTION]["Properties"]["TracingConfig"] == {"Mode": "PassThrough"}
    assert not [s for s in role_statements(default) if s["Sid"] == "SendTraces"]

    traced = as_dict(make_config(tracing=True))
    assert traced["Resources"][FUNCTION]["Properties"]["TracingConfig"] == {"Mode": "Active"}
    (xray,) = [s for s in role_statements(traced) if s["Sid"] == "SendTraces"]
    assert xray["Action"] == ["xray:PutTraceSegments", "xray:PutTelemetryRecords"]
