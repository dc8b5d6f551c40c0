"""Which S3 event records are uploads to process, and why the others are skipped.

Keys that are not ``<TEMP_FOLDER><uuid>`` are skipped: Django only ever issues
UUID keys, so anything else was not uploaded through it and has nobody to
report to. Keys arrive URL-encoded (``unquote_plus``, docs/contract.md).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote_plus, unquote_plus

#: What S3 sends once when a notification is configured; it names no object.
TEST_EVENT = "s3:TestEvent"
_UPLOAD_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


@dataclass(frozen=True)
class Upload:
    """A record naming an upload's source object."""

    bucket: str
    key: str
    upload_id: str


@dataclass(frozen=True)
class Skipped:
    """A record the handler leaves alone, with the reason it logs."""

    reason: str
    bucket: str | None = None
    key: str | None = None

    def log_fields(self) -> dict[str, str]:
        """The log line's fields, the object named only if the record got that far."""
        where = {"bucket": self.bucket, "key": self.key} if self.key is not None else {}
        return {**where, "outcome": "skipped", "reason": self.reason}


def is_test_event(event: Mapping[str, Any]) -> bool:
    return event.get("Event") == TEST_EVENT


def is_eventbridge_s3(event: Mapping[str, Any]) -> bool:
    """An S3 event routed through EventBridge (``detail-type``/``detail``, no ``Records``)."""
    return event.get("source") == "aws.s3" and isinstance(event.get("detail"), Mapping)


def records(event: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The event's S3 records; an EventBridge S3 event becomes the one record it describes."""
    if is_eventbridge_s3(event):
        return [_from_eventbridge(event)]
    found = event.get("Records")
    return found if isinstance(found, list) else []


def _from_eventbridge(event: Mapping[str, Any]) -> dict[str, Any]:
    """The notification-shaped record of an EventBridge S3 event.

    EventBridge names the object with its raw key, where notifications URL-encode
    it; it is encoded here so :func:`parse_record` decodes both the same way.
    """
    detail = event["detail"]
    created = event.get("detail-type") == "Object Created"
    key = (detail.get("object") or {}).get("key")
    record: dict[str, Any] = {"eventName": "ObjectCreated:EventBridge" if created else "other"}
    bucket = (detail.get("bucket") or {}).get("name")
    if isinstance(key, str) and isinstance(bucket, str):
        record["s3"] = {"bucket": {"name": bucket}, "object": {"key": quote_plus(key, safe="/")}}
    return record


def parse_record(record: Mapping[str, Any], temp_prefix: str) -> Upload | Skipped:
    """The upload a record names, or why it is skipped.

    A record without ``s3.bucket.name`` or ``s3.object.key`` is skipped
    (``malformed_record``), not raised: a raise would make Lambda retry the whole
    event and send the other records' callbacks again, and no retry can fix it.
    """
    if not isinstance(record, Mapping) or not str(record.get("eventName", "")).startswith(
        "ObjectCreated"
    ):
        return Skipped("not_object_created")
    try:
        bucket = record["s3"]["bucket"]["name"]
        key = unquote_plus(record["s3"]["object"]["key"])
    except (KeyError, TypeError):
        return Skipped("malformed_record")
    if not isinstance(bucket, str):
        return Skipped("malformed_record")
    if not key.startswith(temp_prefix):
        return Skipped("outside_temp_prefix", bucket, key)
    upload_id = key[len(temp_prefix) :]
    if not _UPLOAD_ID.fullmatch(upload_id):
        return Skipped("key_is_not_an_upload_id", bucket, key)
    return Upload(bucket, key, upload_id)
