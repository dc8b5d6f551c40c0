"""Existing-bucket mode: add our notification and lifecycle rule to a bucket we don't own.

S3 stores a bucket's notification and lifecycle configurations as one document
each, and a PUT replaces the whole document. So we read, merge (keeping every
queue, topic, function and EventBridge setting someone else made), and write
back. The merge itself is pure (:func:`merge_notifications`,
:func:`merge_lifecycle`), so it is tested without AWS; :func:`plan` reads the
bucket and :func:`apply` writes it.

S3 does not hand a document back exactly as it was written (filter rule names
come back as ``Prefix``/``Suffix``, configurations in its own order), so
"did anything change" compares normalised documents (:func:`normalise_notification`,
:func:`normalise_lifecycle`), and an unchanged document is never written again.
"""

from __future__ import annotations

import copy
import json
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
#: S3 refuses ``ExpiredObjectDeleteMarker`` in a rule whose Expiration has Days,
#: so the delete markers under the temp prefix get a rule of their own.
LIFECYCLE_TEMP_MARKERS_RULE_ID = f"{LIFECYCLE_TEMP_RULE_ID}-markers"
OUR_LIFECYCLE_RULE_IDS = (LIFECYCLE_TEMP_RULE_ID, LIFECYCLE_TEMP_MARKERS_RULE_ID)
#: How long a versioned bucket keeps a processed original as a noncurrent version.
NONCURRENT_DAYS = 1
#: get_bucket_location's answers that are not region names.
_LOCATION_REGIONS = {None: "us-east-1", "": "us-east-1", "EU": "eu-west-1"}


class BucketConflict(ValueError):
    """Our notification would overlap one already on the bucket; S3 would refuse it too."""


class WrongRegion(ValueError):
    """The bucket lives in another region than the stack; S3 cannot notify across regions."""


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
            prefix = _prefix_suffix(ours)[0]
            kept = (
                sum(len(self.notification_after.get(kind, [])) for kind in _NOTIFICATION_KINDS) - 1
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
        if self.versioning:
            lines.append(
                f"  versioning: {self.versioning}; processed originals under the temp prefix "
                f"are kept as noncurrent versions for {NONCURRENT_DAYS} day(s), then expire"
            )
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


def _unqualified(function_arn: str) -> str:
    """``arn:...:function:NAME`` without a ``:version``/``:alias`` qualifier."""
    parts = function_arn.split(":")
    return ":".join(parts[:7]) if len(parts) > 7 and parts[5] == "function" else function_arn


def is_our_function(arn: str, function_arn: str) -> bool:
    """Does a notification's ``LambdaFunctionArn`` point at our function (any qualifier)?"""
    return bool(arn) and _unqualified(arn) == _unqualified(function_arn)


def _is_ours(kind: str, configuration: dict[str, Any], function_arn: str) -> bool:
    """Ours by Id, or (like the trigger a deleted new-bucket stack left) by its function."""
    return configuration.get("Id") == NOTIFICATION_ID or (
        kind == "LambdaFunctionConfigurations"
        and is_our_function(configuration.get("LambdaFunctionArn", ""), function_arn)
    )


def _normalise_configuration(configuration: dict[str, Any]) -> dict[str, Any]:
    normal = copy.deepcopy(configuration)
    normal["Events"] = sorted(set(normal.get("Events", [])))
    rules = normal.pop("Filter", {}).get("Key", {}).get("FilterRules", [])
    if rules:
        normal["Filter"] = {
            "Key": {
                "FilterRules": sorted(
                    ({"Name": r["Name"].lower(), "Value": r["Value"]} for r in rules),
                    key=lambda r: (r["Name"], r["Value"]),
                )
            }
        }
    return normal


def _as_written(document: dict[str, Any]) -> dict[str, Any]:
    """Filter rule names as the PUT API spells them (``prefix``/``suffix``), in place.

    S3 reads them back capitalised; writing that back is accepted by S3 but not
    by every emulator, and the API reference lists only the lower-case names.
    """
    for kind in _NOTIFICATION_KINDS:
        for configuration in document.get(kind) or []:
            for rule in configuration.get("Filter", {}).get("Key", {}).get("FilterRules", []):
                rule["Name"] = rule["Name"].lower()
    return document


def _sort_key(item: dict[str, Any]) -> str:
    return json.dumps(item, sort_keys=True, default=str)


def normalise_notification(document: dict[str, Any]) -> dict[str, Any]:
    """A notification document as S3 means it: filter names lower case, everything sorted.

    S3 answers ``"Name": "Prefix"`` for a rule written as ``"prefix"``, and needn't
    keep the order of configurations, events or rules; none of that is a change.
    """
    normal: dict[str, Any] = {}
    for kind in _NOTIFICATION_KINDS:
        configurations = [_normalise_configuration(c) for c in document.get(kind) or []]
        if configurations:
            normal[kind] = sorted(configurations, key=_sort_key)
    if "EventBridgeConfiguration" in document:
        normal["EventBridgeConfiguration"] = document["EventBridgeConfiguration"] or {}
    return normal


def normalise_lifecycle(rules: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Lifecycle rules in ID order (S3 needn't keep the order they were written in)."""
    return sorted((copy.deepcopy(r) for r in rules), key=lambda r: (str(r.get("ID")), _sort_key(r)))


def merge_notifications(current: dict[str, Any], ours: dict[str, Any]) -> dict[str, Any]:
    """``current`` with ``ours`` added or replaced; others untouched.

    A configuration is replaced when it has our Id or when it is a Lambda
    configuration for our function under any Id: CloudFormation gives the
    new-bucket stack's trigger a random Id, and deleting that stack leaves it on
    the retained bucket pointing at the function this deploy recreates.
    """
    function_arn = ours["LambdaFunctionArn"]
    merged = {
        key: copy.deepcopy(value)
        for key, value in current.items()
        if key in (*_NOTIFICATION_KINDS, "EventBridgeConfiguration")
    }
    for kind in _NOTIFICATION_KINDS:
        for existing in merged.get(kind, []):
            if _is_ours(kind, existing, function_arn):
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
        c
        for c in merged.get("LambdaFunctionConfigurations", [])
        if not _is_ours("LambdaFunctionConfigurations", c, function_arn)
    ]
    merged["LambdaFunctionConfigurations"] = [*functions, copy.deepcopy(ours)]
    return _as_written(merged)


def our_lifecycle_rule(temp_prefix: str, days: int) -> dict[str, Any]:
    """Expire temp sources; on a versioned bucket also their noncurrent versions.

    The Lambda deletes a source once processed; on a versioned bucket that only
    adds a delete marker and keeps the original (with its GPS EXIF) as a
    noncurrent version, so noncurrent versions expire after a day too.
    """
    return {
        "ID": LIFECYCLE_TEMP_RULE_ID,
        "Status": "Enabled",
        "Filter": {"Prefix": temp_prefix},
        "Expiration": {"Days": days},
        "NoncurrentVersionExpiration": {"NoncurrentDays": NONCURRENT_DAYS},
        "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1},
    }


def our_delete_marker_rule(temp_prefix: str) -> dict[str, Any]:
    """Remove the delete markers left once a temp key's noncurrent versions expired."""
    return {
        "ID": LIFECYCLE_TEMP_MARKERS_RULE_ID,
        "Status": "Enabled",
        "Filter": {"Prefix": temp_prefix},
        "Expiration": {"ExpiredObjectDeleteMarker": True},
    }


def our_lifecycle_rules(temp_prefix: str, days: int) -> list[dict[str, Any]]:
    return [our_lifecycle_rule(temp_prefix, days), our_delete_marker_rule(temp_prefix)]


def merge_lifecycle(
    current: list[dict[str, Any]], ours: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """``current`` rules with ours added or replaced (matched by ID)."""
    ids = {rule["ID"] for rule in ours}
    kept = [copy.deepcopy(r) for r in current if r.get("ID") not in ids]
    return [*kept, *ours]


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


def plan(s3: Any, config: StackConfig, function_arn: str) -> BucketPlan:
    """Read the bucket and work out the merged configurations (no writes).

    Raises :class:`WrongRegion` for a bucket outside the stack's region and
    :class:`BucketConflict` for an overlapping notification.
    """
    bucket = config.bucket_name
    check_region(s3, bucket, config.region)
    notification = s3.get_bucket_notification_configuration(Bucket=bucket)
    notification.pop("ResponseMetadata", None)
    lifecycle, minimum_size = read_lifecycle(s3, bucket)
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
            *filter(None, [kms_warning(s3, bucket, function_arn)]),
        ],
        versioning=bucket_versioning(s3, bucket),
        lifecycle_minimum_size=minimum_size,
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
            Bucket=bucket, NotificationConfiguration=_as_written(notification)
        )
    return len(functions) - len(kept)


def remove(s3: Any, bucket: str, function_arn: str | None = None) -> None:
    """Take our notification and lifecycle rules off the bucket (teardown)."""
    remove_notifications(s3, bucket, function_arn)
    rules, minimum_size = read_lifecycle(s3, bucket)
    kept = [r for r in rules if r.get("ID") not in OUR_LIFECYCLE_RULE_IDS]
    if kept != rules:
        if kept:
            write_lifecycle(s3, bucket, kept, minimum_size)
        else:
            s3.delete_bucket_lifecycle(Bucket=bucket)
