"""docs/deploy.md's IAM list for the deploying user covers every call the command makes.

The command runs against moto in both bucket modes (deploy, redeploy, --check,
--delete, deploy again after a delete); a botocore ``before-call`` hook records
each operation, which is mapped to the IAM action that authorises it and looked
up in the documented list. A new boto3 call without documentation fails here.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from async_image_upload.infra import aws_steps
from tests.infra.deploy_command import run
from tests.infra.moto_support import (  # noqa: F401 (an autouse fixture)
    MOTO_UNSUPPORTED_RESOURCES,
    moto_requests_come_over_tls,
)

pytestmark = pytest.mark.filterwarnings(MOTO_UNSUPPORTED_RESOURCES)

DEPLOY_DOC = Path(__file__).resolve().parents[2] / "docs" / "deploy.md"
SECTION = "### Calls the command makes itself"

#: S3 operations whose IAM action is not ``s3:<Operation>`` (the S3 actions table in the
#: Service Authorization Reference).
S3_ACTIONS = {
    "HeadBucket": ["s3:ListBucket"],
    "HeadObject": ["s3:GetObject"],
    "ListObjectsV2": ["s3:ListBucket"],
    "CreateMultipartUpload": ["s3:PutObject"],
    "UploadPart": ["s3:PutObject"],
    "CompleteMultipartUpload": ["s3:PutObject"],
    "PutPublicAccessBlock": ["s3:PutBucketPublicAccessBlock"],
    "GetPublicAccessBlock": ["s3:GetBucketPublicAccessBlock"],
    "PutBucketEncryption": ["s3:PutEncryptionConfiguration"],
    "GetBucketEncryption": ["s3:GetEncryptionConfiguration"],
    "PutBucketLifecycleConfiguration": ["s3:PutLifecycleConfiguration"],
    "GetBucketLifecycleConfiguration": ["s3:GetLifecycleConfiguration"],
    "DeleteBucketLifecycle": ["s3:PutLifecycleConfiguration"],
    "PutBucketNotificationConfiguration": ["s3:PutBucketNotification"],
    "GetBucketNotificationConfiguration": ["s3:GetBucketNotification"],
    "GetBucketCors": ["s3:GetBucketCORS"],
}
#: Calls that need a second action (tags given at creation).
EXTRA_ACTIONS = {("secretsmanager", "CreateSecret"): ["secretsmanager:TagResource"]}
PREFIXES = {"cloudformation": "cloudformation", "lambda": "lambda", "s3": "s3",
            "secretsmanager": "secretsmanager", "sts": "sts"}  # fmt: skip


def iam_actions(service: str, operation: str) -> list[str]:
    if service == "s3" and operation in S3_ACTIONS:
        actions = list(S3_ACTIONS[operation])
    else:
        actions = [f"{PREFIXES[service]}:{operation}"]
    return actions + EXTRA_ACTIONS.get((service, operation), [])


def documented_actions() -> set[str]:
    text = DEPLOY_DOC.read_text()
    section = text.split(SECTION, 1)[1].split("\n#", 1)[0]
    return set(re.findall(r"`([a-z0-9-]+:[A-Za-z]+)`", section))


@pytest.fixture
def recorded_calls(monkeypatch):
    """Every (service, operation) the command's clients send, via botocore's event hooks."""
    calls: set[tuple[str, str]] = set()
    original = aws_steps.Clients.client

    def client(self, service):
        created = service not in self._cache
        result = original(self, service)
        if created:

            def record(model, **kwargs):
                calls.add((model.service_model.service_name, model.name))

            result.meta.events.register("before-call.*.*", record)
        return result

    monkeypatch.setattr(aws_steps.Clients, "client", client)
    return calls


def test_the_documented_permissions_cover_every_call_the_command_makes(
    aws, source_only_zip, legacy_bucket, recorded_calls, settings
):
    new = ["--endpoint-url", aws, "--yes", "--zip", str(source_only_zip.path),
           "--new-bucket", "fresh-uploads"]  # fmt: skip
    existing = ["--endpoint-url", aws, "--yes", "--zip", str(source_only_zip.path),
                "--existing-bucket", "legacy-photos", "--stack-name", "legacy",
                "--cors-origin", "https://app.example.com"]  # fmt: skip
    run(*new)
    run("--endpoint-url", aws, "--check", "--new-bucket", "fresh-uploads")
    settings.ASYNC_IMAGE_UPLOAD = {**settings.ASYNC_IMAGE_UPLOAD, "CALLBACK_SECRETS": ["r" * 64]}
    run(*new)  # a rotation: a new secret version
    run("--endpoint-url", aws, "--delete", "--new-bucket", "fresh-uploads")
    run(*new[:-1], "fresh-uploads-2")  # restores the secret scheduled for deletion
    run(*existing)
    run("--endpoint-url", aws, "--check", "--existing-bucket", "legacy-photos",
        "--stack-name", "legacy")  # fmt: skip
    run("--endpoint-url", aws, "--delete", "--existing-bucket", "legacy-photos",
        "--stack-name", "legacy")  # fmt: skip

    needed = {action for call in recorded_calls for action in iam_actions(*call)}
    assert len(needed) > 30  # the hook saw the whole run
    assert sorted(needed - documented_actions()) == []


def test_the_section_exists_and_names_no_wildcards():
    actions = documented_actions()
    assert "secretsmanager:PutSecretValue" in actions
    assert all("*" not in action for action in actions)
