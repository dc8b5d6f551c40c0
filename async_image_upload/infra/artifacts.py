"""Where the Lambda zip waits for CloudFormation: a private, content-addressed location.

The upload bucket cannot hold the code on a first deploy (the stack creates it),
so the zip goes to a separate artifacts bucket, one per account and region like
SAM's managed bucket. Keys are content hashes, so an unchanged zip is neither
uploaded again nor seen as a change by CloudFormation.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from async_image_upload.infra.deploy import DeployError, Echo
from async_image_upload.infra.package import LambdaPackage

ARTIFACTS_PREFIX = "lambda/"


def default_artifacts_bucket(account_id: str, region: str) -> str:
    return f"async-image-upload-artifacts-{account_id}-{region}"


def bucket_state(s3: Any, bucket: str) -> str:
    """``"ours"`` (exists, we can reach it), ``"missing"`` or ``"taken"`` (someone else's)."""
    try:
        s3.head_bucket(Bucket=bucket)
    except ClientError as exc:
        code = str(exc.response.get("Error", {}).get("Code", ""))
        if code in ("404", "NoSuchBucket", "NotFound"):
            return "missing"
        if code in ("403", "AccessDenied", "Forbidden"):
            return "taken"
        raise
    return "ours"


def ensure_artifacts_bucket(s3: Any, bucket: str, region: str, echo: Echo = print) -> None:
    """Create the private artifacts bucket when it does not exist yet."""
    state = bucket_state(s3, bucket)
    if state == "ours":
        return
    if state == "taken":
        raise DeployError(
            f"the artifacts bucket name {bucket!r} belongs to another account; "
            "pass --artifacts-bucket with a bucket you own"
        )
    echo(f"Creating artifacts bucket {bucket}")
    create: dict[str, Any] = {"Bucket": bucket, "ObjectOwnership": "BucketOwnerEnforced"}
    if region != "us-east-1":  # us-east-1 rejects an explicit LocationConstraint
        create["CreateBucketConfiguration"] = {"LocationConstraint": region}
    s3.create_bucket(**create)
    s3.put_public_access_block(
        Bucket=bucket,
        PublicAccessBlockConfiguration={
            "BlockPublicAcls": True,
            "IgnorePublicAcls": True,
            "BlockPublicPolicy": True,
            "RestrictPublicBuckets": True,
        },
    )
    s3.put_bucket_encryption(
        Bucket=bucket,
        ServerSideEncryptionConfiguration={
            "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]
        },
    )


def upload_package(s3: Any, package: LambdaPackage, bucket: str, stack_name: str) -> str:
    """Upload the zip under its content hash unless it is there already; return the key."""
    key = package.s3_key(f"{ARTIFACTS_PREFIX}{stack_name}/")
    try:
        s3.head_object(Bucket=bucket, Key=key)
        return key
    except ClientError as exc:
        if str(exc.response.get("Error", {}).get("Code")) not in ("404", "NoSuchKey", "NotFound"):
            raise
    s3.upload_file(str(package.path), bucket, key)
    return key
