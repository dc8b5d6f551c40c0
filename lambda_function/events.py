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
from urllib.parse import unquote_plus

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


def records(event: Mapping[str, Any]) -> list[dict[str, Any]]:
    return event.get("Records") or []


def parse_record(record: Mapping[str, Any], temp_prefix: str) -> Upload | Skipped:
    """The upload a record names, or why it is skipped.

    A record without ``s3.bucket.name`` or ``s3.object.key`` raises KeyError: S3
    never sends one, so it is logged and raised as a fault like any other.
    """
    if not str(record.get("eventName", "")).startswith("ObjectCreated"):
        return Skipped("not_object_created")
    bucket = record["s3"]["bucket"]["name"]
    key = unquote_plus(record["s3"]["object"]["key"])
    if not key.startswith(temp_prefix):
        return Skipped("outside_temp_prefix", bucket, key)
    upload_id = key[len(temp_prefix) :]
    if not _UPLOAD_ID.fullmatch(upload_id):
        return Skipped("key_is_not_an_upload_id", bucket, key)
    return Upload(bucket, key, upload_id)
