"""Existing-bucket mode: add our notification and lifecycle rule to a bucket we don't own.

The deploy step, in three parts: :func:`plan` reads the bucket
(:mod:`~async_image_upload.infra.bucket_inspect`) and merges our entries into
what it found (:mod:`~async_image_upload.infra.bucket_merge`, pure), writing
nothing; :func:`apply` writes only the documents that change; :func:`remove`
takes our entries off again (teardown).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from async_image_upload.infra.bucket_inspect import (
    bucket_versioning,
    check_region,
    kms_warning,
    read_lifecycle,
    safety_warnings,
    tls_warning,
)
from async_image_upload.infra.bucket_merge import (
    NONCURRENT_DAYS,
    NOTIFICATION_KINDS,
    OUR_LIFECYCLE_RULE_IDS,
    as_written,
    is_our_function,
    merge_lifecycle,
    merge_notifications,
    merge_policy_statement,
    normalise_lifecycle,
    normalise_notification,
    normalise_policy,
    our_lifecycle_rules,
    our_notification,
    prefix_suffix,
    without_policy_statement,
)
from async_image_upload.infra.cdn import READ_STATEMENT_SID, api_read_statement
from async_image_upload.infra.config import StackConfig
from async_image_upload.infra.template import NOTIFICATION_ID


@dataclass
class BucketPlan:
    """What the merge would change on an existing bucket, and what to warn about."""

    bucket: str
    notification_before: dict[str, Any]
    notification_after: dict[str, Any]
    lifecycle_before: list[dict[str, Any]]
    lifecycle_after: list[dict[str, Any]]
    warnings: list[str] = field(default_factory=list)
    #: ``Enabled``/``Suspended`` for a versioned bucket, ``""`` for one never versioned.
    versioning: str = ""
    #: The bucket's ``TransitionDefaultMinimumObjectSize`` as read ("" without a lifecycle):
    #: written back with the rules, since a PUT without it resets it to S3's default.
    lifecycle_minimum_size: str = ""
    #: The bucket policy as read and with the CDN's read statement merged in; both
    #: ``None`` without ``--cdn`` (the policy is then not touched at all).
    policy_before: dict[str, Any] | None = None
    policy_after: dict[str, Any] | None = None

    @property
    def policy_changes(self) -> bool:
        return self.policy_after is not None and normalise_policy(
            self.policy_before
        ) != normalise_policy(self.policy_after)

    @property
    def notification_changes(self) -> bool:
        return normalise_notification(self.notification_before) != normalise_notification(
            self.notification_after
        )

    @property
    def lifecycle_changes(self) -> bool:
        return normalise_lifecycle(self.lifecycle_before) != normalise_lifecycle(
            self.lifecycle_after
        )

    def describe(self) -> list[str]:
        """Human-readable lines for ``--dry-run``/``--check`` and the deploy log."""
        lines = [f"Bucket {self.bucket}:"]
        if self.notification_changes:
            (ours,) = [
                c
                for c in self.notification_after.get("LambdaFunctionConfigurations", [])
                if c.get("Id") == NOTIFICATION_ID
            ]
            prefix = prefix_suffix(ours)[0]
            kept = (
                sum(len(self.notification_after.get(kind, [])) for kind in NOTIFICATION_KINDS) - 1
            )
            stale = [
                c.get("Id", "without id")
                for c in self.notification_before.get("LambdaFunctionConfigurations", [])
                if c.get("Id") != NOTIFICATION_ID
                and is_our_function(c.get("LambdaFunctionArn", ""), ours["LambdaFunctionArn"])
            ]
            lines.append(
                f"  notification: s3:ObjectCreated:* under {prefix!r} -> "
                f"{ours['LambdaFunctionArn']} ({kept} other configuration(s) kept)"
            )
            if stale:
                lines.append(
                    "  notification: replaces the stale trigger(s) "
                    f"{', '.join(map(repr, stale))} for the same function"
                )
        else:
            lines.append("  notification: up to date")
        if self.lifecycle_changes:
            others = [r for r in self.lifecycle_after if r.get("ID") not in OUR_LIFECYCLE_RULE_IDS]
            lines.append(
                f"  lifecycle: rules {', '.join(OUR_LIFECYCLE_RULE_IDS)} "
                f"({len(others)} other rule(s) kept)"
            )
        else:
            lines.append("  lifecycle: up to date")
        if self.policy_after is not None:
            if self.policy_changes:
                kept = len(self.policy_after["Statement"]) - 1
                lines.append(
                    f"  policy: statement {READ_STATEMENT_SID!r} lets the CDN read the image "
                    f"prefix ({kept} other statement(s) kept)"
                )
            else:
                lines.append("  policy: up to date")
        if self.versioning:
            lines.append(
                f"  versioning: {self.versioning}; processed originals under the temp prefix "
                f"are kept as noncurrent versions for {NONCURRENT_DAYS} day(s), then expire"
            )
        lines += [f"  warning: {w}" for w in self.warnings]
        return lines


def read_policy(s3: Any, bucket: str) -> dict[str, Any] | None:
    """The bucket's policy document, or ``None`` when it has none."""
    try:
        return json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"])
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") != "NoSuchBucketPolicy":
            raise
        return None


def plan(
    s3: Any, config: StackConfig, function_arn: str, distribution_arn: str | None = None
) -> BucketPlan:
    """Read the bucket and work out the merged configurations (no writes).

    ``distribution_arn`` (with ``--cdn``, once the stack made the distribution)
    adds the statement that lets that distribution alone read the image prefix.

    Raises :class:`WrongRegion` for a bucket outside the stack's region and
    :class:`BucketConflict` for an overlapping notification.
    """
    bucket = config.bucket_name
    check_region(s3, bucket, config.region)
    notification = s3.get_bucket_notification_configuration(Bucket=bucket)
    notification.pop("ResponseMetadata", None)
    lifecycle, minimum_size = read_lifecycle(s3, bucket)
    policy: dict[str, Any] = {}
    if config.cdn and distribution_arn:
        before = read_policy(s3, bucket)
        ours = api_read_statement(
            bucket, config.image_prefix, distribution_arn, function_arn.split(":")[1]
        )
        policy = {"policy_before": before, "policy_after": merge_policy_statement(before, ours)}
    return BucketPlan(
        bucket=bucket,
        notification_before=notification,
        notification_after=merge_notifications(
            notification, our_notification(function_arn, config.temp_prefix)
        ),
        lifecycle_before=lifecycle,
        lifecycle_after=merge_lifecycle(
            lifecycle, our_lifecycle_rules(config.temp_prefix, config.temp_expiration_days)
        ),
        warnings=[
            *safety_warnings(s3, bucket, config.cors_origins),
            *filter(
                None,
                [
                    kms_warning(s3, bucket, function_arn),
                    tls_warning(s3, bucket, function_arn.split(":")[1]),
                ],
            ),
        ],
        versioning=bucket_versioning(s3, bucket),
        lifecycle_minimum_size=minimum_size,
        **policy,
    )


def write_lifecycle(s3: Any, bucket: str, rules: list[dict[str, Any]], minimum_size: str) -> None:
    """PUT the rules, keeping the bucket's minimum transition size as its owner set it.

    S3 treats a PUT without ``TransitionDefaultMinimumObjectSize`` as asking for
    its default (``all_storage_classes_128K``), so a bucket set to
    ``varies_by_storage_class`` would silently stop moving its small objects to
    Glacier just because we added a rule for our temp prefix.
    """
    extra = {"TransitionDefaultMinimumObjectSize": minimum_size} if minimum_size else {}
    s3.put_bucket_lifecycle_configuration(
        Bucket=bucket, LifecycleConfiguration={"Rules": rules}, **extra
    )


def apply(s3: Any, bucket_plan: BucketPlan) -> None:
    """Write the merged configurations (only those that change; an unchanged one is left be)."""
    if bucket_plan.notification_changes:
        s3.put_bucket_notification_configuration(
            Bucket=bucket_plan.bucket, NotificationConfiguration=bucket_plan.notification_after
        )
    if bucket_plan.lifecycle_changes:
        write_lifecycle(
            s3,
            bucket_plan.bucket,
            bucket_plan.lifecycle_after,
            bucket_plan.lifecycle_minimum_size,
        )
    if bucket_plan.policy_changes:
        s3.put_bucket_policy(Bucket=bucket_plan.bucket, Policy=json.dumps(bucket_plan.policy_after))


def remove_notifications(s3: Any, bucket: str, function_arn: str | None = None) -> int:
    """Take our trigger(s) off the bucket: our Id, or any Lambda configuration for our function.

    Returns how many configurations were removed (nothing is written when none).
    """
    notification = s3.get_bucket_notification_configuration(Bucket=bucket)
    notification.pop("ResponseMetadata", None)
    functions = notification.get("LambdaFunctionConfigurations", [])
    kept = [
        c
        for c in functions
        if c.get("Id") != NOTIFICATION_ID
        and not (function_arn and is_our_function(c.get("LambdaFunctionArn", ""), function_arn))
    ]
    if len(kept) != len(functions):
        notification["LambdaFunctionConfigurations"] = kept
        s3.put_bucket_notification_configuration(
            Bucket=bucket, NotificationConfiguration=as_written(notification)
        )
    return len(functions) - len(kept)


def remove(s3: Any, bucket: str, function_arn: str | None = None) -> None:
    """Take our notification, lifecycle rules and CDN read statement off the bucket."""
    remove_notifications(s3, bucket, function_arn)
    policy = read_policy(s3, bucket)
    remaining = without_policy_statement(policy, READ_STATEMENT_SID)
    if policy and remaining is None:
        s3.delete_bucket_policy(Bucket=bucket)
    elif policy and remaining != policy:
        s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(remaining))
    rules, minimum_size = read_lifecycle(s3, bucket)
    kept = [r for r in rules if r.get("ID") not in OUR_LIFECYCLE_RULE_IDS]
    if kept != rules:
        if kept:
            write_lifecycle(s3, bucket, kept, minimum_size)
        else:
            s3.delete_bucket_lifecycle(Bucket=bucket)
