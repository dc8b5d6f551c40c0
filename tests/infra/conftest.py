"""Fixtures for the infra tests: configs in both bucket modes and architectures.

The emulated AWS (moto's server) is the shipped plugin's ``s3_server``.
"""

from __future__ import annotations

import pytest

from async_image_upload.infra.config import StackConfig

CALLBACK_URL = "https://app.example.com/uploads/callback/"


def make_config(**changes) -> StackConfig:
    """A valid config; tests change only what they are about."""
    values = {
        "bucket_name": "photos-example-uploads",
        "callback_url": CALLBACK_URL,
        "stack_name": "photos-thumbs",
        "cors_origins": ("https://app.example.com",),
    }
    values.update(changes)
    return StackConfig(**values)


@pytest.fixture(
    params=[("new", "arm64"), ("new", "x86_64"), ("existing", "arm64"), ("existing", "x86_64")],
    ids=lambda p: f"{p[0]}-{p[1]}",
)
def any_config(request) -> StackConfig:
    """Every combination the issue asks the linters to pass."""
    mode, arch = request.param
    return make_config(bucket_mode=mode, architecture=arch)


@pytest.fixture
def aws(s3_server):
    """A clean emulated account on the plugin's moto server; returns its endpoint URL.

    Every resource is deleted first, so a test sees only the stacks, functions
    and buckets it made. The fake credentials are the plugin's.
    """
    import requests

    requests.post(f"{s3_server}/moto-api/reset", timeout=10).raise_for_status()
    return s3_server


@pytest.fixture
def clients(aws, aws_client):
    """The plugin's ``aws_client`` factory, on a clean account: ``clients("cloudformation")``."""
    return aws_client


@pytest.fixture(scope="session")
def source_only_zip(tmp_path_factory):
    """The real lambda_function/ zipped without wheels: moto stores code, never runs it."""
    from async_image_upload.infra.package import build_lambda_zip

    return build_lambda_zip(
        architecture="arm64",
        python_version="3.12",
        requirements=(),
        cache_dir=tmp_path_factory.mktemp("zip-cache"),
    )


@pytest.fixture
def legacy_bucket(clients):
    """A bucket that already feeds a queue and another function, with its own lifecycle."""
    s3, sqs, iam, lam = clients("s3"), clients("sqs"), clients("iam"), clients("lambda")
    s3.create_bucket(Bucket="legacy-photos")
    queue_url = sqs.create_queue(QueueName="audit")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    role = iam.create_role(RoleName="other", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    other = lam.create_function(
        FunctionName="other", Runtime="python3.12", Role=role, Handler="x.y",
        Code={"ZipFile": b"PK\x05\x06" + b"\x00" * 18},
    )["FunctionArn"]  # fmt: skip
    s3.put_bucket_notification_configuration(
        Bucket="legacy-photos",
        NotificationConfiguration={
            "QueueConfigurations": [
                {"Id": "audit", "QueueArn": queue_arn, "Events": ["s3:ObjectRemoved:*"]}
            ],
            "LambdaFunctionConfigurations": [
                {
                    "Id": "docs",
                    "LambdaFunctionArn": other,
                    "Events": ["s3:ObjectCreated:*"],
                    "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": "docs/"}]}},
                }
            ],
        },
    )
    s3.put_bucket_lifecycle_configuration(
        Bucket="legacy-photos",
        LifecycleConfiguration={
            "Rules": [
                {
                    "ID": "old-logs",
                    "Status": "Enabled",
                    "Filter": {"Prefix": "logs/"},
                    "Expiration": {"Days": 30},
                }
            ]
        },
    )
    return {"queue": queue_arn, "function": other}
