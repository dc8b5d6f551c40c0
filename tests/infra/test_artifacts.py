"""The artifacts bucket cannot be squatted: every call names its owner, a stranger's is refused.

moto accepts ``ExpectedBucketOwner`` and ignores it, and lets any account reach
any bucket. The ``s3_checks_owner`` fixture makes moto's server answer as S3
documents it ("If the bucket is owned by a different account, the request fails
with the HTTP status code 403 Forbidden"), and records every request, so the
tests see both what the deploy sends and what it does with the refusal.
"""

from __future__ import annotations

import hashlib
import json

import boto3
import pytest
from django.core.management import CommandError

from async_image_upload.infra.artifacts import (
    NONCURRENT_ZIP_DAYS,
    default_artifacts_bucket,
)
from tests.infra.deploy_command import run
from tests.infra.moto_support import (  # noqa: F401 (an autouse fixture)
    MOTO_UNSUPPORTED_RESOURCES,
    moto_requests_come_over_tls,
)

pytestmark = pytest.mark.filterwarnings(MOTO_UNSUPPORTED_RESOURCES)

ACCOUNT = "123456789012"  # moto's default account: the deploying user's
STRANGER = "111122223333"
ARTIFACTS = default_artifacts_bucket(ACCOUNT, "us-east-1")


@pytest.fixture
def s3_checks_owner(monkeypatch):
    """moto's server enforcing x-amz-expected-bucket-owner; yields the requests it saw."""
    from moto.s3 import responses
    from moto.s3.models import s3_backends

    seen: list[dict[str, str | None]] = []
    for name in ("_bucket_response", "_key_response"):
        original = getattr(responses.S3Response, name)

        def checked(self, request, full_url, _original=original):
            bucket = self.parse_bucket_name_from_url(request, full_url)
            expected = request.headers.get("x-amz-expected-bucket-owner")
            seen.append(
                {"method": request.method, "bucket": bucket, "url": full_url, "owner": expected}
            )
            owner = s3_backends.bucket_accounts.get(bucket)
            if expected and owner and owner[1] != expected:
                return 403, {}, b"<Error><Code>AccessDenied</Code><Message>Denied</Message></Error>"
            return _original(self, request, full_url)

        monkeypatch.setattr(responses.S3Response, name, checked)
    return seen


def stranger_s3(endpoint: str):
    """A client acting as another AWS account (moto reads the account from this header)."""
    client = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")

    def as_stranger(request, **kwargs):
        request.headers["x-moto-account-id"] = STRANGER

    client.meta.events.register("before-sign.s3.*", as_stranger)
    return client


def deploy_args(aws, zip_path):
    return ["--endpoint-url", aws, "--yes", "--zip", str(zip_path), "--new-bucket", "fresh-uploads"]


def test_the_artifacts_bucket_is_created_hardened_and_every_call_names_its_owner(
    aws, clients, source_only_zip, s3_checks_owner
):
    run(*deploy_args(aws, source_only_zip.path))
    deploy_requests = list(s3_checks_owner)  # before this test's own reads below
    s3 = clients("s3")
    assert s3.get_bucket_versioning(Bucket=ARTIFACTS)["Status"] == "Enabled"
    block = s3.get_public_access_block(Bucket=ARTIFACTS)["PublicAccessBlockConfiguration"]
    assert all(block.values()) and len(block) == 4
    (statement,) = json.loads(s3.get_bucket_policy(Bucket=ARTIFACTS)["Policy"])["Statement"]
    assert statement["Effect"] == "Deny"
    assert statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    rules = {r["ID"]: r for r in s3.get_bucket_lifecycle_configuration(Bucket=ARTIFACTS)["Rules"]}
    assert {
        r.get("NoncurrentVersionExpiration", {}).get("NoncurrentDays") for r in rules.values()
    } >= {NONCURRENT_ZIP_DAYS}
    assert any(r.get("Expiration") == {"ExpiredObjectDeleteMarker": True} for r in rules.values())

    ours = [r for r in deploy_requests if r["bucket"] == ARTIFACTS]
    create = [r for r in ours if r["method"] == "PUT" and r["url"].rstrip("/").endswith(ARTIFACTS)]
    assert len(create) == 1  # CreateBucket takes no ExpectedBucketOwner; it fails if taken
    others = [r for r in ours if r not in create]
    assert {r["method"] for r in others} >= {"HEAD", "PUT"}  # head_bucket/object, upload
    assert [r for r in others if r["owner"] != ACCOUNT] == []


def test_a_squatted_artifacts_bucket_is_refused_and_receives_no_code(
    aws, clients, source_only_zip, s3_checks_owner
):
    squatter = stranger_s3(aws)
    squatter.create_bucket(Bucket=ARTIFACTS)
    with pytest.raises(CommandError) as refused:
        run(*deploy_args(aws, source_only_zip.path))
    message = str(refused.value)
    assert f"{ARTIFACTS!r} exists but is not owned by your account {ACCOUNT}" in message
    assert "--artifacts-bucket" in message
    assert "Traceback" not in message
    assert squatter.list_objects_v2(Bucket=ARTIFACTS).get("KeyCount", 0) == 0
    assert clients("cloudformation").list_stacks()["StackSummaries"] == []


def test_an_existing_upload_bucket_owned_by_someone_else_is_refused(
    aws, source_only_zip, s3_checks_owner
):
    stranger_s3(aws).create_bucket(Bucket="their-photos")
    with pytest.raises(CommandError, match="'their-photos' belongs to another account"):
        run("--endpoint-url", aws, "--yes", "--zip", str(source_only_zip.path),
            "--existing-bucket", "their-photos")  # fmt: skip


def test_every_call_on_an_existing_bucket_names_its_owner_too(
    aws, source_only_zip, legacy_bucket, s3_checks_owner
):
    s3_checks_owner.clear()  # the fixture's own setup calls
    run("--endpoint-url", aws, "--yes", "--zip", str(source_only_zip.path),
        "--existing-bucket", "legacy-photos")  # fmt: skip
    run("--endpoint-url", aws, "--delete", "--existing-bucket", "legacy-photos")
    on_bucket = [r for r in s3_checks_owner if r["bucket"] == "legacy-photos"]
    assert len(on_bucket) > 10  # inspect, merge, write, teardown
    assert [r for r in on_bucket if r["owner"] != ACCOUNT] == []


def other_zip(source_zip, tmp_path, n: int):
    """A copy of the source-only zip with one more file: another content hash."""
    import shutil
    import zipfile

    path = tmp_path / f"variant-{n}.zip"
    shutil.copy(source_zip.path, path)
    with zipfile.ZipFile(path, "a") as archive:
        archive.writestr("lambda_function/build_note.txt", f"build {n}\n")
    return path


def test_old_zips_are_deleted_after_a_deploy_and_kept_as_noncurrent_versions(
    aws, clients, source_only_zip, tmp_path, monkeypatch
):
    from async_image_upload.infra import artifacts

    # Keep only the deployed zip (LastModified has whole seconds: "the newest"
    # among zips uploaded within one second would depend on the listing order).
    monkeypatch.setattr(artifacts, "KEEP_PACKAGES", 0)
    first = other_zip(source_only_zip, tmp_path, 1)
    second = other_zip(source_only_zip, tmp_path, 2)
    run(*deploy_args(aws, first))
    output = run(*deploy_args(aws, second))
    assert f"Deleted 1 older Lambda package(s) from {ARTIFACTS}" in output

    s3 = clients("s3")
    current = [o["Key"] for o in s3.list_objects_v2(Bucket=ARTIFACTS)["Contents"]]
    second_sha256 = hashlib.sha256(second.read_bytes()).hexdigest()
    assert current == [f"lambda/async-image-upload/arm64/{second_sha256}.zip"]  # the deployed one
    versions = s3.list_object_versions(Bucket=ARTIFACTS)
    assert len(versions["DeleteMarkers"]) == 1  # the first zip, restorable for 30 days
    assert {v["Key"] for v in versions["Versions"]} == {
        current[0],
        versions["DeleteMarkers"][0]["Key"],
    }
