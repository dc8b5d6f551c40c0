"""Where the Lambda zip waits for CloudFormation: a private, content-addressed location.

The upload bucket cannot hold the code on a first deploy (the stack creates it),
so the zip goes to a separate artifacts bucket, one per account and region like
SAM's managed bucket. Keys are content hashes, so an unchanged zip is neither
uploaded again nor seen as a change by CloudFormation.
"""

from __future__ import annotations

import json
from typing import Any

from botocore.exceptions import ClientError

from async_image_upload.infra.deploy import DeployError, Echo
from async_image_upload.infra.package import LambdaPackage
from async_image_upload.infra.template import tls_only_statement

ARTIFACTS_PREFIX = "lambda/"
#: Days an older zip is kept as a noncurrent version (a redeploy overwrites nothing:
#: keys are content hashes; this covers a key deleted or replaced by hand).
NONCURRENT_ZIP_DAYS = 30
LIFECYCLE_RULE_ID = "async-image-upload-expire-old-zips"
#: Zips kept per stack after a deploy: the one deployed, and those a rollback or a
#: quick redeploy of an older version may still need.
KEEP_PACKAGES = 3


def default_artifacts_bucket(account_id: str, region: str) -> str:
    return f"async-image-upload-artifacts-{account_id}-{region}"


def bucket_state(s3: Any, bucket: str, expected_owner: str) -> str:
    """``"ours"`` (exists in ``expected_owner``'s account), ``"missing"`` or ``"taken"``.

    With ``ExpectedBucketOwner`` S3 answers 403 for a bucket of that name in any
    other account, even one that would let us in: a squatter's bucket is "taken".
    """
    try:
        s3.head_bucket(Bucket=bucket, ExpectedBucketOwner=expected_owner)
    except ClientError as exc:
        code = str(exc.response.get("Error", {}).get("Code", ""))
        if code in ("404", "NoSuchBucket", "NotFound"):
            return "missing"
        if code in ("403", "AccessDenied", "Forbidden"):
            return "taken"
        raise
    return "ours"


def _partition(region: str) -> str:
    if region.startswith("cn-"):
        return "aws-cn"
    return "aws-us-gov" if region.startswith("us-gov-") else "aws"


def tls_only_policy(bucket: str, region: str) -> dict[str, Any]:
    arn = f"arn:{_partition(region)}:s3:::{bucket}"
    return {"Version": "2012-10-17", "Statement": [tls_only_statement([arn, f"{arn}/*"])]}


def lifecycle_rules() -> list[dict[str, Any]]:
    """Old zips expire as noncurrent versions; stray uploads and markers are cleaned up."""
    return [
        {
            "ID": LIFECYCLE_RULE_ID,
            "Status": "Enabled",
            "Filter": {"Prefix": ARTIFACTS_PREFIX},
            "NoncurrentVersionExpiration": {"NoncurrentDays": NONCURRENT_ZIP_DAYS},
            "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1},
        },
        {
            "ID": f"{LIFECYCLE_RULE_ID}-markers",
            "Status": "Enabled",
            "Filter": {"Prefix": ARTIFACTS_PREFIX},
            "Expiration": {"ExpiredObjectDeleteMarker": True},
        },
    ]


def ensure_artifacts_bucket(
    s3: Any, bucket: str, region: str, *, account_id: str, echo: Echo = print
) -> None:
    """Create the private artifacts bucket when it does not exist yet; refuse a squatted one.

    Every call after ``create_bucket`` names ``account_id`` as the expected owner
    (``create_bucket`` has no such parameter; it fails for a name already taken).
    """
    state = bucket_state(s3, bucket, account_id)
    if state == "ours":
        return
    if state == "taken":
        raise DeployError(
            f"the artifacts bucket {bucket!r} exists but is not owned by your account "
            f"{account_id} (S3 bucket names are global, so anyone can create one with a "
            "predictable name). Refusing to upload the Lambda code there: pass "
            "--artifacts-bucket NAME with a bucket your account owns."
        )
    echo(f"Creating artifacts bucket {bucket}")
    create: dict[str, Any] = {"Bucket": bucket, "ObjectOwnership": "BucketOwnerEnforced"}
    if region != "us-east-1":  # us-east-1 rejects an explicit LocationConstraint
        create["CreateBucketConfiguration"] = {"LocationConstraint": region}
    s3.create_bucket(**create)
    owner = {"Bucket": bucket, "ExpectedBucketOwner": account_id}
    s3.put_public_access_block(
        **owner,
        PublicAccessBlockConfiguration={
            "BlockPublicAcls": True,
            "IgnorePublicAcls": True,
            "BlockPublicPolicy": True,
            "RestrictPublicBuckets": True,
        },
    )
    s3.put_bucket_encryption(
        **owner,
        ServerSideEncryptionConfiguration={
            "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]
        },
    )
    s3.put_bucket_versioning(**owner, VersioningConfiguration={"Status": "Enabled"})
    s3.put_bucket_lifecycle_configuration(
        **owner, LifecycleConfiguration={"Rules": lifecycle_rules()}
    )
    s3.put_bucket_policy(**owner, Policy=json.dumps(tls_only_policy(bucket, region)))


def upload_package(
    s3: Any, package: LambdaPackage, bucket: str, stack_name: str, *, expected_owner: str
) -> str:
    """Upload the zip under its content hash unless it is there already; return the key."""
    key = package.s3_key(f"{ARTIFACTS_PREFIX}{stack_name}/")
    try:
        s3.head_object(Bucket=bucket, Key=key, ExpectedBucketOwner=expected_owner)
        return key
    except ClientError as exc:
        if str(exc.response.get("Error", {}).get("Code")) not in ("404", "NoSuchKey", "NotFound"):
            raise
    s3.upload_file(
        str(package.path), bucket, key, ExtraArgs={"ExpectedBucketOwner": expected_owner}
    )
    return key


def prune_old_packages(
    s3: Any,
    bucket: str,
    stack_name: str,
    current_key: str,
    *,
    expected_owner: str,
    keep: int | None = None,
) -> list[str]:
    """Delete this stack's zips but ``current_key`` and the ``keep`` newest; return their keys.

    Keys are content hashes, so nothing is ever overwritten and old zips would
    pile up. On the versioned bucket a delete leaves a noncurrent version, which
    the lifecycle expires after NONCURRENT_ZIP_DAYS: a deleted zip can be
    restored for that long.
    """
    keep = KEEP_PACKAGES if keep is None else keep
    prefix = f"{ARTIFACTS_PREFIX}{stack_name}/"
    pages = s3.get_paginator("list_objects_v2").paginate(
        Bucket=bucket, Prefix=prefix, ExpectedBucketOwner=expected_owner
    )
    objects = sorted(
        (item for page in pages for item in page.get("Contents", [])),
        key=lambda item: item["LastModified"],
        reverse=True,
    )
    kept = {current_key, *(item["Key"] for item in objects[:keep])}
    old = [item["Key"] for item in objects if item["Key"] not in kept]
    for key in old:
        s3.delete_object(Bucket=bucket, Key=key, ExpectedBucketOwner=expected_owner)
    return old
