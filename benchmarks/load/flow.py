"""Many clients uploading at once through the local stack, and the invariants checked after.

The clients are the shipped headless client (presign, POST to S3, poll), the
Lambda is the production handler fed by S3's own notifications, and Django
receives the signed callbacks over HTTP. What is checked afterwards is what a
user would notice: an upload that never finished (lost), a signal sent twice
(duplicated), an upload not ``ready``.
"""

from __future__ import annotations

import statistics
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from async_image_upload.local.client import UploadClient, UploadResult


@dataclass
class SignalLog:
    """Every ``upload_status_changed`` sent while connected, thread-safe."""

    sent: list[tuple[str, str, str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def receiver(self, upload: Any, previous_status: str, status: str, **kwargs: Any) -> None:
        with self.lock:
            self.sent.append((str(upload.pk), previous_status, status))

    @contextmanager
    def connected(self) -> Iterator[SignalLog]:
        from async_image_upload.signals import upload_status_changed

        upload_status_changed.connect(self.receiver, weak=False)
        try:
            yield self
        finally:
            upload_status_changed.disconnect(self.receiver)


@dataclass
class FlowReport:
    uploads: int
    clients: int
    wall_s: float
    results: list[UploadResult]
    ready: int
    lost: int
    duplicated_signals: int
    client_ms: list[float]
    server_ms: list[float]

    @property
    def ok(self) -> bool:
        return self.lost == 0 and self.duplicated_signals == 0 and self.ready == self.uploads

    def percentile(self, values: list[float], pct: int) -> float:
        if len(values) < 2:
            return values[0] if values else float("nan")
        return statistics.quantiles(values, n=100, method="inclusive")[pct - 1]


def run_clients(
    api_url: str, tokens: list[str], photo: bytes, uploads: int, timeout_s: float = 120
) -> tuple[list[UploadResult], float]:
    """``uploads`` uploads shared out over one client thread per token; returns results, wall s."""
    folder = Path(tempfile.mkdtemp(prefix="aiu-load-"))
    path = folder / "photo.jpg"
    path.write_bytes(photo)
    per_client = [uploads // len(tokens) + (i < uploads % len(tokens)) for i in range(len(tokens))]

    def one_client(token: str, count: int) -> list[UploadResult]:
        client = UploadClient(api_url, token, poll_timeout_s=timeout_s)
        return [client.upload(path) for _ in range(count)]

    started = time.perf_counter()
    with ThreadPoolExecutor(len(tokens), thread_name_prefix="aiu-load-client") as pool:
        batches = list(pool.map(one_client, tokens, per_client))
    wall = time.perf_counter() - started
    path.unlink()
    folder.rmdir()
    return [result for batch in batches for result in batch], wall


def check(
    results: list[UploadResult], signals: SignalLog, clients: int, wall_s: float
) -> FlowReport:
    """Compare what clients saw with the database and the signals sent."""
    from async_image_upload.models import ImageUpload, Status

    ids = [result.upload_id for result in results if result.upload_id]
    rows = {
        str(pk): (status, created, completed)
        for pk, status, created, completed in ImageUpload.objects.filter(pk__in=ids).values_list(
            "pk", "status", "created_at", "completed_at"
        )
    }
    per_upload = Counter(upload_id for upload_id, _prev, _status in signals.sent)
    lost = len(results) - sum(1 for i in ids if rows.get(i, ("",))[0] == Status.READY)
    return FlowReport(
        uploads=len(results),
        clients=clients,
        wall_s=wall_s,
        results=results,
        ready=sum(1 for status, _c, _d in rows.values() if status == Status.READY),
        lost=lost,
        duplicated_signals=sum(count - 1 for count in per_upload.values() if count > 1),
        client_ms=[r.timings_ms["total"] for r in results if r.status == "ready"],
        server_ms=[
            (completed - created).total_seconds() * 1000
            for _status, created, completed in rows.values()
            if completed is not None
        ],
    )
