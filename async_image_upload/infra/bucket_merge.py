"""Existing-bucket mode, the pure part: our entries merged into a bucket's documents.

S3 stores a bucket's notification and lifecycle configurations as one document
each, and a PUT replaces the whole document. So we read, merge (keeping every
queue, topic, function and EventBridge setting someone else made), and write
back. This module is the merge: documents in, documents out, no AWS calls, so
it is tested without AWS. :mod:`~async_image_upload.infra.bucket_inspect` reads
a bucket and :mod:`~async_image_upload.infra.existing_bucket` puts the two together.

S3 does not hand a document back exactly as it was written (filter rule names
come back as ``Prefix``/``Suffix``, configurations in its own order), so
"did anything change" compares normalised documents (:func:`normalise_notification`,
:func:`normalise_lifecycle`), and an unchanged document is never written again.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from async_image_upload.infra.template import LIFECYCLE_TEMP_RULE_ID, NOTIFICATION_ID

NOTIFICATION_KINDS = (
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


class BucketConflict(ValueError):
    """Our notification would overlap one already on the bucket; S3 would refuse it too."""


def our_notification(function_arn: str, temp_prefix: str) -> dict[str, Any]:
    return {
        "Id": NOTIFICATION_ID,
        "LambdaFunctionArn": function_arn,
        "Events": [_EVENT],
        "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": temp_prefix}]}},
    }


def prefix_suffix(configuration: dict[str, Any]) -> tuple[str, str]:
    """A configuration's key filter as ``(prefix, suffix)``, ``""`` where it has none."""
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
    (prefix_a, suffix_a), (prefix_b, suffix_b) = prefix_suffix(a), prefix_suffix(b)
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


def as_written(document: dict[str, Any]) -> dict[str, Any]:
    """Filter rule names as the PUT API spells them (``prefix``/``suffix``), in place.

    S3 reads them back capitalised; writing that back is accepted by S3 but not
    by every emulator, and the API reference lists only the lower-case names.
    """
    for kind in NOTIFICATION_KINDS:
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
    for kind in NOTIFICATION_KINDS:
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
        if key in (*NOTIFICATION_KINDS, "EventBridgeConfiguration")
    }
    for kind in NOTIFICATION_KINDS:
        for existing in merged.get(kind, []):
            if _is_ours(kind, existing, function_arn):
                continue
            if overlaps(existing, ours):
                target = (
                    existing.get("LambdaFunctionArn")
                    or existing.get("QueueArn")
                    or existing.get("TopicArn")
                )
                prefix = prefix_suffix(existing)[0] or "(whole bucket)"
                raise BucketConflict(
                    f"the bucket already sends {', '.join(existing.get('Events', []))} "
                    f"for keys under {prefix!r} to {target} (configuration "
                    f"{existing.get('Id', 'without id')!r}), which overlaps the thumbnail "
                    f"trigger on {prefix_suffix(ours)[0]!r}. S3 allows one destination per "
                    "event and key; narrow that configuration's prefix or choose another "
                    "TEMP_PREFIX."
                )
    functions = [
        c
        for c in merged.get("LambdaFunctionConfigurations", [])
        if not _is_ours("LambdaFunctionConfigurations", c, function_arn)
    ]
    merged["LambdaFunctionConfigurations"] = [*functions, copy.deepcopy(ours)]
    return as_written(merged)


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


def _statements(policy: dict[str, Any]) -> list[dict[str, Any]]:
    statements = policy.get("Statement", [])
    return [statements] if isinstance(statements, dict) else list(statements)


def merge_policy_statement(current: dict[str, Any] | None, ours: dict[str, Any]) -> dict[str, Any]:
    """``current`` bucket policy with ``ours`` added or replaced (matched by its Sid).

    Every other statement, and the policy's Version and Id, are kept as the
    bucket's owner wrote them; ``None`` (no policy yet) gives a policy of ours alone.
    """
    merged = copy.deepcopy(current) if current else {"Version": "2012-10-17"}
    kept = [s for s in _statements(merged) if s.get("Sid") != ours["Sid"]]
    merged["Statement"] = [*kept, copy.deepcopy(ours)]
    return merged


def without_policy_statement(current: dict[str, Any] | None, sid: str) -> dict[str, Any] | None:
    """``current`` without the statement ``sid``; ``None`` when nothing else is left."""
    if not current:
        return None
    kept = [s for s in _statements(current) if s.get("Sid") != sid]
    if not kept:
        return None
    remaining = copy.deepcopy(current)
    remaining["Statement"] = kept
    return remaining


def normalise_policy(policy: dict[str, Any] | None) -> dict[str, Any]:
    """A policy with its statements sorted (S3 needn't keep their order)."""
    if not policy:
        return {}
    normal = copy.deepcopy(policy)
    normal["Statement"] = sorted(_statements(policy), key=_sort_key)
    return normal
