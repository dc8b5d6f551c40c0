"""Existing-bucket mode: add our notification and lifecycle rule to a bucket we don't own.

S3 stores a bucket's notification and lifecycle configurations as one document
each, and a PUT replaces the whole document. So we read, merge (keeping every
queue, topic, function and EventBridge setting someone else made), and write
back. The merge itself is pure (:func:`merge_notifications`,
:func:`merge_lifecycle`), so it is tested without AWS; :func:`plan` reads the
bucket and :func:`apply` writes it.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from async_image_upload.infra.config import StackConfig
from async_image_upload.infra.template import LIFECYCLE_TEMP_RULE_ID, NOTIFICATION_ID

_NOTIFICATION_KINDS = (
    "TopicConfigurations",
    "QueueConfigurations",
    "LambdaFunctionConfigurations",
)
_EVENT = "s3:ObjectCreated:*"


class BucketConflict(ValueError):
    """Our notification would overlap one already on the bucket; S3 would refuse it too."""


@dataclass
class BucketPlan:
    """What the merge would change on an existing bucket, and what to warn about."""

    bucket: str
    notification_before: dict[str, Any]
    notification_after: dict[str, Any]
    lifecycle_before: list[dict[str, Any]]
    lifecycle_after: list[dict[str, Any]]
    warnings: list[str] = field(default_factory=list)

    @property
    def notification_changes(self) -> bool:
        return self.notification_before != self.notification_after

    @property
    def lifecycle_changes(self) -> bool:
        return self.lifecycle_before != self.lifecycle_after

    def describe(self) -> list[str]:
        """Human-readable lines for ``--dry-run``/``--check`` and the deploy log."""
        lines = [f"Bucket {self.bucket}:"]
        if self.notification_changes:
            (ours,) = [
                c
                for c in self.notification_after.get("LambdaFunctionConfigurations", [])
                if c.get("Id") == NOTIFICATION_ID
            ]
            prefix = _prefix_suffix(ours)[0]
            kept = (
                sum(len(self.notification_after.get(kind, [])) for kind in _NOTIFICATION_KINDS) - 1
            )
            lines.append(
                f"  notification: s3:ObjectCreated:* under {prefix!r} -> "
                f"{ours['LambdaFunctionArn']} ({kept} other configuration(s) kept)"
            )
        else:
            lines.append("  notification: up to date")
        if self.lifecycle_changes:
            lines.append(
                f"  lifecycle: rule {LIFECYCLE_TEMP_RULE_ID} "
                f"({len(self.lifecycle_after) - 1} other rule(s) kept)"
            )
        else:
            lines.append("  lifecycle: up to date")
        lines += [f"  warning: {w}" for w in self.warnings]
        return lines


def our_notification(function_arn: str, temp_prefix: str) -> dict[str, Any]:
    return {
        "Id": NOTIFICATION_ID,
        "LambdaFunctionArn": function_arn,
        "Events": [_EVENT],
        "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": temp_prefix}]}},
    }


def _prefix_suffix(configuration: dict[str, Any]) -> tuple[str, str]:
    rules = configuration.get("Filter", {}).get("Key", {}).get("FilterRules", [])
    values = {rule["Name"].lower(): rule["Value"] for rule in rules}
    return values.get("prefix", ""), values.get("suffix", "")


def _events_overlap(a: list[str], b: list[str]) -> bool:
    def family(event: str) -> tuple[str, str]:
        parts = event.split(":")  # s3:ObjectCreated:Put
        return parts[1], parts[2] if len(parts) > 2 else "*"

    for x in map(family, a):
        for y in map(family, b):
            if x[0] == y[0] and (x[1] == y[1] or "*" in (x[1], y[1])):
                return True
    return False


def overlaps(a: dict[str, Any], b: dict[str, Any]) -> bool:
    """Would S3 treat ``a`` and ``b`` as overlapping (same event, intersecting keys)?"""
    if not _events_overlap(a.get("Events", []), b.get("Events", [])):
        return False
    (prefix_a, suffix_a), (prefix_b, suffix_b) = _prefix_suffix(a), _prefix_suffix(b)
    prefixes = prefix_a.startswith(prefix_b) or prefix_b.startswith(prefix_a)
    suffixes = suffix_a.endswith(suffix_b) or suffix_b.endswith(suffix_a)
    return prefixes and suffixes


def merge_notifications(current: dict[str, Any], ours: dict[str, Any]) -> dict[str, Any]:
    """``current`` with ``ours`` added or replaced (matched by Id); others untouched."""
    merged = {
        key: copy.deepcopy(value)
        for key, value in current.items()
        if key in (*_NOTIFICATION_KINDS, "EventBridgeConfiguration")
    }
    for kind in _NOTIFICATION_KINDS:
        for existing in merged.get(kind, []):
            if existing.get("Id") == NOTIFICATION_ID:
                continue
            if overlaps(existing, ours):
                target = (
                    existing.get("LambdaFunctionArn")
                    or existing.get("QueueArn")
                    or existing.get("TopicArn")
                )
                prefix = _prefix_suffix(existing)[0] or "(whole bucket)"
                raise BucketConflict(
                    f"the bucket already sends {', '.join(existing.get('Events', []))} "
                    f"for keys under {prefix!r} to {target} (configuration "
                    f"{existing.get('Id', 'without id')!r}), which overlaps the thumbnail "
                    f"trigger on {_prefix_suffix(ours)[0]!r}. S3 allows one destination per "
                    "event and key; narrow that configuration's prefix or choose another "
                    "TEMP_PREFIX."
                )
    functions = [
        c for c in merged.get("LambdaFunctionConfigurations", []) if c.get("Id") != NOTIFICATION_ID
    ]
    merged["LambdaFunctionConfigurations"] = [*functions, ours]
    return merged


def our_lifecycle_rule(temp_prefix: str, days: int) -> dict[str, Any]:
    return {
        "ID": LIFECYCLE_TEMP_RULE_ID,
        "Status": "Enabled",
        "Filter": {"Prefix": temp_prefix},
        "Expiration": {"Days": days},
        "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1},
    }


def merge_lifecycle(current: list[dict[str, Any]], ours: dict[str, Any]) -> list[dict[str, Any]]:
    """``current`` rules with ours added or replaced (matched by ID)."""
    kept = [copy.deepcopy(r) for r in current if r.get("ID") != ours["ID"]]
    return [*kept, ours]


def _error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


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


def plan(s3: Any, config: StackConfig, function_arn: str) -> BucketPlan:
    """Read the bucket and work out the merged configurations (no writes)."""
    bucket = config.bucket_name
    notification = s3.get_bucket_notification_configuration(Bucket=bucket)
    notification.pop("ResponseMetadata", None)
    try:
        lifecycle = s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]
    except ClientError as exc:
        if _error_code(exc) != "NoSuchLifecycleConfiguration":
            raise
        lifecycle = []
    return BucketPlan(
        bucket=bucket,
        notification_before=notification,
        notification_after=merge_notifications(
            notification, our_notification(function_arn, config.temp_prefix)
        ),
        lifecycle_before=lifecycle,
        lifecycle_after=merge_lifecycle(
            lifecycle, our_lifecycle_rule(config.temp_prefix, config.temp_expiration_days)
        ),
        warnings=safety_warnings(s3, bucket, config.cors_origins),
    )


def apply(s3: Any, bucket_plan: BucketPlan) -> None:
    """Write the merged configurations (only those that change)."""
    if bucket_plan.notification_changes:
        s3.put_bucket_notification_configuration(
            Bucket=bucket_plan.bucket, NotificationConfiguration=bucket_plan.notification_after
        )
    if bucket_plan.lifecycle_changes:
        s3.put_bucket_lifecycle_configuration(
            Bucket=bucket_plan.bucket,
            LifecycleConfiguration={"Rules": bucket_plan.lifecycle_after},
        )


def remove(s3: Any, bucket: str) -> None:
    """Take our notification and lifecycle rule off the bucket (teardown)."""
    notification = s3.get_bucket_notification_configuration(Bucket=bucket)
    notification.pop("ResponseMetadata", None)
    functions = notification.get("LambdaFunctionConfigurations", [])
    if any(c.get("Id") == NOTIFICATION_ID for c in functions):
        notification["LambdaFunctionConfigurations"] = [
            c for c in functions if c.get("Id") != NOTIFICATION_ID
        ]
        s3.put_bucket_notification_configuration(
            Bucket=bucket, NotificationConfiguration=notification
        )
    try:
        rules = s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]
    except ClientError as exc:
        if _error_code(exc) != "NoSuchLifecycleConfiguration":
            raise
        return
    kept = [r for r in rules if r.get("ID") != LIFECYCLE_TEMP_RULE_ID]
    if kept != rules:
        if kept:
            s3.put_bucket_lifecycle_configuration(
                Bucket=bucket, LifecycleConfiguration={"Rules": kept}
            )
        else:
            s3.delete_bucket_lifecycle(Bucket=bucket)
