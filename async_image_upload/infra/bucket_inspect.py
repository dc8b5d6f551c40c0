"""Existing-bucket mode, the reading part: what a bucket we don't own is like.

Its region (S3 notifies only a function in the bucket's own region), its
versioning, its lifecycle document, and the settings worth a warning (public
access, ACLs, CORS, a customer KMS key), each warning with the command that
fixes it. Reads only; :mod:`~async_image_upload.infra.existing_bucket` writes.
"""

from __future__ import annotations

import json
from typing import Any

from botocore.exceptions import ClientError

from async_image_upload.infra.template import tls_only_statement

#: get_bucket_location's answers that are not region names.
_LOCATION_REGIONS = {None: "us-east-1", "": "us-east-1", "EU": "eu-west-1"}


class WrongRegion(ValueError):
    """The bucket lives in another region than the stack; S3 cannot notify across regions."""


def _error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def bucket_region(s3: Any, bucket: str) -> str:
    location = s3.get_bucket_location(Bucket=bucket).get("LocationConstraint")
    return _LOCATION_REGIONS.get(location, location)


def check_region(s3: Any, bucket: str, region: str) -> None:
    """Refuse a bucket in another region: S3 only notifies a function in its own region."""
    actual = bucket_region(s3, bucket)
    if actual != region:
        raise WrongRegion(
            f"Bucket {bucket!r} is in {actual}, but the stack would be deployed to {region}; "
            "S3 can only trigger a Lambda function in the bucket's own region. Deploy with "
            f"--region {actual} (or set ASYNC_IMAGE_UPLOAD['REGION'] = {actual!r})."
        )


def bucket_versioning(s3: Any, bucket: str) -> str:
    return str(s3.get_bucket_versioning(Bucket=bucket).get("Status") or "")


def _compact(document: Any) -> str:
    return json.dumps(document, separators=(",", ":"))


def kms_warning(s3: Any, bucket: str, function_arn: str) -> str | None:
    """Default SSE-KMS with a customer key: the function's role cannot use the key."""
    try:
        config = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]
    except ClientError as exc:
        if _error_code(exc) != "ServerSideEncryptionConfigurationNotFoundError":
            raise
        return None
    for rule in config.get("Rules", []):
        default = rule.get("ApplyServerSideEncryptionByDefault") or {}
        key = str(default.get("KMSMasterKeyID") or "")
        if not str(default.get("SSEAlgorithm", "")).startswith("aws:kms"):
            continue
        if not key or key.endswith("alias/aws/s3"):
            continue  # the AWS managed key: the role's S3 permissions are enough
        _, partition, _, region, account, _, function = function_arn.split(":")[:7]
        key_arn = (
            key if key.startswith("arn:") else f"arn:{partition}:kms:{region}:{account}:key/{key}"
        )
        sse_s3 = {
            "Rules": [
                {
                    "ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"},
                    "BucketKeyEnabled": True,
                }
            ]
        }
        policy = {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
                    "Resource": key_arn,
                }
            ],
        }
        return (
            f"the bucket encrypts new objects with the customer KMS key {key} by default, and "
            "the thumbnail function's role has no KMS permissions, so reading uploads and "
            "writing thumbnails would fail with AccessDenied (ignore this if the key is the "
            "AWS managed aws/s3 key). Fix: either encrypt with S3-managed keys: "
            f"aws s3api put-bucket-encryption --bucket {bucket} "
            f"--server-side-encryption-configuration '{_compact(sse_s3)}' "
            "or, after the deploy, let the role use the key: aws iam put-role-policy "
            f'--role-name "$(aws lambda get-function-configuration --function-name {function} '
            '--query Role --output text | cut -d/ -f2-)" --policy-name use-upload-bucket-key '
            f"--policy-document '{_compact(policy)}' (the credentials Django presigns uploads "
            "with need kms:GenerateDataKey on the key too)"
        )
    return None


def safety_warnings(s3: Any, bucket: str, cors_origins: tuple[str, ...] = ()) -> list[str]:
    """Public access, ownership and CORS problems, each with the command that fixes it."""
    warnings = []
    try:
        block = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
    except ClientError as exc:
        if _error_code(exc) != "NoSuchPublicAccessBlockConfiguration":
            raise
        block = {}
    flags = ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets")
    if not all(block.get(flag) for flag in flags):
        warnings.append(
            "Block Public Access is not fully on. Fix: aws s3api put-public-access-block "
            f"--bucket {bucket} --public-access-block-configuration "
            + ",".join(f"{flag}=true" for flag in flags)
        )
    try:
        rules = s3.get_bucket_ownership_controls(Bucket=bucket)["OwnershipControls"]["Rules"]
    except ClientError as exc:
        if _error_code(exc) != "OwnershipControlsNotFoundError":
            raise
        rules = []
    if [r.get("ObjectOwnership") for r in rules] != ["BucketOwnerEnforced"]:
        warnings.append(
            "ACLs are not disabled (Object Ownership is not BucketOwnerEnforced). Fix: "
            f"aws s3api put-bucket-ownership-controls --bucket {bucket} "
            "--ownership-controls 'Rules=[{ObjectOwnership=BucketOwnerEnforced}]'"
        )
    if cors_origins:
        try:
            cors_rules = s3.get_bucket_cors(Bucket=bucket)["CORSRules"]
        except ClientError as exc:
            if _error_code(exc) != "NoSuchCORSConfiguration":
                raise
            cors_rules = []
        allowed = {
            origin
            for rule in cors_rules
            if "POST" in rule.get("AllowedMethods", [])
            for origin in rule.get("AllowedOrigins", [])
        }
        missing = [o for o in cors_origins if o not in allowed and "*" not in allowed]
        if missing:
            rule = (
                '{"CORSRules":[{"AllowedMethods":["POST"],"AllowedOrigins":['
                + ",".join(f'"{o}"' for o in cors_origins)
                + '],"AllowedHeaders":["*"],"ExposeHeaders":["ETag"],"MaxAgeSeconds":3000}]}'
            )
            warnings.append(
                f"browsers at {', '.join(missing)} cannot POST to the bucket (CORS). Fix "
                "(merge with your other CORS rules first): aws s3api put-bucket-cors "
                f"--bucket {bucket} --cors-configuration '{rule}'"
            )
    return warnings


def tls_statement_to_merge(bucket: str, partition: str = "aws") -> dict[str, Any]:
    """The TLS-only statement an existing bucket's policy should hold (Security Hub S3.5)."""
    arn = f"arn:{partition}:s3:::{bucket}"
    return tls_only_statement([arn, f"{arn}/*"])


def _denies_plain_http(statement: dict[str, Any]) -> bool:
    condition = statement.get("Condition", {}).get("Bool", {})
    return (
        statement.get("Effect") == "Deny"
        and str(condition.get("aws:SecureTransport", "")).lower() == "false"
    )


def tls_warning(s3: Any, bucket: str, partition: str = "aws") -> str | None:
    """A bucket policy without a TLS-only Deny: the statement to merge, never written by us.

    The bucket's policy is its owner's document; replacing it could drop their
    grants, so the command prints the statement instead of putting it.
    """
    try:
        policy = json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"])
    except ClientError as exc:
        if _error_code(exc) != "NoSuchBucketPolicy":
            raise
        policy = {}
    statements = policy.get("Statement", [])
    if isinstance(statements, dict):
        statements = [statements]
    if any(_denies_plain_http(statement) for statement in statements):
        return None
    return (
        "the bucket policy does not refuse plain-HTTP requests (Security Hub S3.5). "
        "Merge this statement into its Statement list (get-bucket-policy, add it, "
        f"put-bucket-policy; we never overwrite a bucket policy): "
        f"{_compact(tls_statement_to_merge(bucket, partition))}"
    )


def read_lifecycle(s3: Any, bucket: str) -> tuple[list[dict[str, Any]], str]:
    """The bucket's lifecycle rules and its ``TransitionDefaultMinimumObjectSize``.

    Both come back empty for a bucket without a lifecycle configuration.
    """
    try:
        response = s3.get_bucket_lifecycle_configuration(Bucket=bucket)
    except ClientError as exc:
        if _error_code(exc) != "NoSuchLifecycleConfiguration":
            raise
        return [], ""
    return response["Rules"], response.get("TransitionDefaultMinimumObjectSize", "")
