"""Event parsing and the log line, on their own (the handler tests cover them end to end)."""

from __future__ import annotations

import json
import uuid

import pytest

from lambda_function import events
from lambda_function.log_record import LogRecord

UPLOAD_ID = str(uuid.uuid4())


def record(key: str, event_name: str = "ObjectCreated:Post") -> dict:
    return {"eventName": event_name, "s3": {"bucket": {"name": "b"}, "object": {"key": key}}}


def test_records_name_an_upload_or_say_why_not() -> None:
    assert events.parse_record(record(f"temp/{UPLOAD_ID}"), "temp/") == events.Upload(
        "b", f"temp/{UPLOAD_ID}", UPLOAD_ID
    )
    assert events.parse_record(record("temp/a+b.jpg"), "temp/") == events.Skipped(
        "key_is_not_an_upload_id", "b", "temp/a b.jpg"
    )
    assert events.parse_record(record("other/x"), "temp/").reason == "outside_temp_prefix"
    removed = events.parse_record(record("temp/x", "ObjectRemoved:Delete"), "temp/")
    assert removed.log_fields() == {"outcome": "skipped", "reason": "not_object_created"}
    assert events.is_test_event({"Event": "s3:TestEvent"})
    assert events.records({"Records": None}) == []
    # A record S3 never sends is skipped, not raised (a raise would replay the good ones).
    malformed = events.parse_record({"eventName": "ObjectCreated:Put", "s3": {}}, "temp/")
    assert malformed.log_fields() == {"outcome": "skipped", "reason": "malformed_record"}


def test_log_record_is_one_json_line_with_stage_timings(capsys: pytest.CaptureFixture[str]) -> None:
    log = LogRecord()
    log.set(key="temp/x")
    assert "timings_ms" not in log.fields  # only records naming an upload carry timings
    with log.stage("head"):
        pass
    with pytest.raises(RuntimeError), log.stage("get"):
        raise RuntimeError("S3 is down")
    log.fault(RuntimeError("S3 is down"))
    log.emit()
    (line,) = capsys.readouterr().out.splitlines()
    data = json.loads(line)
    assert data["logger"] == "async_image_upload.lambda"
    assert data["outcome"] == "error" and data["error"] == "RuntimeError: S3 is down"
    assert set(data["timings_ms"]) == {"head"}  # a stage that raised is not timed
    assert data["total_ms"] >= 0
