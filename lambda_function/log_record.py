"""The one structured log line each S3 record gets.

The handler collects fields and stage timings here as it goes and emits the
line once, whatever happened (``outcome`` stays ``error`` if a fault cut the
record short). One JSON object per line on stdout: CloudWatch Logs Insights
parses it as is (docs/lambda.md shows the fields).
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

LOGGER = "async_image_upload.lambda"


def write(fields: Mapping[str, Any]) -> None:
    """Write one JSON line and flush, so a crash right after still leaves it in the log."""
    sys.stdout.write(json.dumps({"logger": LOGGER, **fields}) + "\n")
    sys.stdout.flush()


def elapsed_ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 2)


class LogRecord:
    """Fields and stage timings of one record, emitted once as one line."""

    def __init__(self) -> None:
        self.fields: dict[str, Any] = {"outcome": "error"}
        self._started = time.perf_counter()

    @property
    def outcome(self) -> str:
        return str(self.fields["outcome"])

    def set(self, **fields: Any) -> None:
        self.fields.update(fields)

    def time_stages(self) -> None:
        """From here on the line carries ``timings_ms`` (records that name an upload)."""
        self.fields.setdefault("timings_ms", {})

    def timing(self, stage: str, ms: float) -> None:
        self.time_stages()
        self.fields["timings_ms"][stage] = ms

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        """Time the block as ``timings_ms[name]``; a block that raises is not recorded."""
        started = time.perf_counter()
        yield
        self.timing(name, elapsed_ms(started))

    def absorb(self, other: LogRecord) -> None:
        """Take the fields and timings ``other`` collected (a worker thread's record)."""
        timings = other.fields.get("timings_ms", {})
        self.fields.update(
            {name: value for name, value in other.fields.items() if name != "timings_ms"}
        )
        for stage, ms in timings.items():
            self.timing(stage, ms)

    def fault(self, exc: BaseException) -> None:
        """A fault that will be raised once every record had its turn."""
        self.fields["error"] = f"{type(exc).__name__}: {exc}"

    def emit(self) -> None:
        write({**self.fields, "total_ms": elapsed_ms(self._started)})
