"""The deadline: a slow input still ends ``failed``/``processing_timeout`` with a manifest.

Time is faked through the context's ``get_remaining_time_in_millis`` (a short
remaining time), and slowness is real: a real Pillow decode of a progressive
JPEG with many scans (under the scan limit), or a stage that waits on an event
(which, like a decode, releases the GIL). Assertions are about what arrives
(callback, manifest, outputs) and about the order of events, never about how
many seconds something took.
"""

from __future__ import annotations

import io
import json
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from PIL import Image

from lambda_function import deadline as deadline_module
from lambda_function import handler as handler_module
from lambda_function.deadline import Deadline, DeadlineError, abandoned_alive, run_watched
from lambda_function.errors import ErrorCode, ImageError
from lambda_function.handler import lambda_handler
from lambda_function.pipeline import Spec, VariantSpec, process

from . import hostile, images
from .conftest import CallbackServer, FakeContext
from .test_handler import keys, s3_event, upload

# Short test times: 1.5 s kept for the failed manifest and one callback attempt
# (the callback needs more than its own 1 s margin), 0.3 s of processing.
RESERVE_S = 1.5
BUDGET_S = 0.3


@pytest.fixture(autouse=True)
def short_times(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(deadline_module, "RESERVE_S", RESERVE_S)
    monkeypatch.setattr(deadline_module, "MIN_START_S", 0.1)
    monkeypatch.setattr(deadline_module, "MAX_SHARE", 1.0)
    yield
    # An abandoned worker must end before the next test, or its records are not started.
    for worker in list(deadline_module._abandoned):
        worker.join(timeout=60)
    assert not abandoned_alive()


def short_context() -> FakeContext:
    return FakeContext(remaining_ms=int((RESERVE_S + BUDGET_S) * 1000))


def slow_jpeg(size: tuple[int, int] = (6000, 4000), scans: int = 100) -> bytes:
    """A real progressive JPEG under the scan limit whose decode takes about a second."""
    return hostile.jpeg_repeated_scans(scans, Image.new("RGB", size, (120, 130, 140)))


def test_a_watchdog_thread_acts_while_pillow_decodes() -> None:
    """Pillow releases the GIL while decoding: the waiting thread wakes during the decode."""
    data = slow_jpeg()
    events: dict[str, float] = {}

    def decode() -> tuple[int, int]:
        image = Image.open(io.BytesIO(data))
        events["decode_started"] = time.perf_counter()
        image.load()
        events["decode_finished"] = time.perf_counter()
        return image.size

    started = time.perf_counter()
    watched = run_watched(decode, Deadline(lambda: RESERVE_S + BUDGET_S, RESERVE_S))
    events["watchdog_acted"] = time.perf_counter()

    assert not watched.finished
    assert watched.worker is not None and watched.worker.is_alive()  # still decoding
    watched.worker.join(timeout=60)
    assert events["decode_started"] < events["watchdog_acted"] < events["decode_finished"]
    late_ms = (events["watchdog_acted"] - started - BUDGET_S) * 1000
    print(f"watchdog acted {late_ms:.1f} ms after its budget, during a decode of "
          f"{(events['decode_finished'] - events['decode_started']) * 1000:.0f} ms")  # fmt: skip


def test_run_watched_returns_the_result_or_raises_the_error_of_work_in_time() -> None:
    roomy = Deadline(lambda: 60.0, RESERVE_S)
    assert run_watched(lambda: 42, roomy).value == 42

    def fail() -> None:
        raise ImageError(ErrorCode.CORRUPT, "broken")

    with pytest.raises(ImageError):
        run_watched(fail, roomy)
    assert not abandoned_alive()


def test_pipeline_stages_check_the_time() -> None:
    """Between stages the pipeline asks the deadline; a spent one stops it with its code."""
    data = images.jpeg(images.photo_like(320, 240))
    spec = Spec(variants=(VariantSpec.parse("100x100"),))
    assert process(data, spec, checkpoint=Deadline(lambda: 60.0, RESERVE_S).checkpoint)

    spent = Deadline(lambda: RESERVE_S - 0.1, RESERVE_S)
    with pytest.raises(ImageError) as timed_out:
        process(data, spec, checkpoint=spent.checkpoint)
    assert timed_out.value.code is ErrorCode.PROCESSING_TIMEOUT

    called_off = Deadline(lambda: 60.0, RESERVE_S)
    called_off.cancelled.set()
    with pytest.raises(ImageError) as stopped:
        process(data, spec, checkpoint=called_off.checkpoint)
    assert stopped.value.code is ErrorCode.PROCESSING_TIMEOUT


def assert_timed_out(s3: Any, bucket: str, upload_id: str, server: CallbackServer) -> None:
    (payload,) = server.payloads()
    assert payload["upload_id"] == upload_id
    assert payload["status"] == "failed"
    assert payload["error"]["code"] == "processing_timeout"
    manifest = s3.get_object(Bucket=bucket, Key=f"image/{upload_id}/manifest.json")
    assert json.loads(manifest["Body"].read())["callback"] == payload


def test_a_slow_real_decode_ends_failed_processing_timeout_with_a_manifest(
    s3: Any, bucket: str, callback_server: CallbackServer
) -> None:
    upload_id = upload(s3, bucket, slow_jpeg())
    result = lambda_handler(s3_event(bucket, f"temp/{upload_id}"), short_context())

    assert result["outcomes"] == ["failed"]
    assert_timed_out(s3, bucket, upload_id, callback_server)


def test_an_abandoned_worker_writes_no_output_and_blocks_new_records_until_it_ends(
    s3: Any, bucket: str, callback_server: CallbackServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    release = threading.Event()
    real_process = handler_module.process

    def real_then_stuck(data: bytes, spec: Any, checkpoint: Any = None) -> Any:
        result = real_process(data, spec)  # the variants are made...
        release.wait(timeout=60)  # ...then a last stage outlasts the deadline (GIL released)
        return result

    monkeypatch.setattr(handler_module, "process", real_then_stuck)
    slow_id = upload(s3, bucket, images.jpeg())
    assert lambda_handler(s3_event(bucket, f"temp/{slow_id}"), short_context())["outcomes"] == [
        "failed"
    ]
    assert_timed_out(s3, bucket, slow_id, callback_server)

    # While the worker still runs, this process starts no record: the event is retried.
    next_id = upload(s3, bucket, images.jpeg())
    with pytest.raises(DeadlineError):
        lambda_handler(s3_event(bucket, f"temp/{next_id}"), FakeContext())
    assert f"image/{next_id}/manifest.json" not in keys(s3, bucket)

    # Released, the worker finds it was called off before its first PUT: nothing written.
    release.set()
    for worker in list(deadline_module._abandoned):
        worker.join(timeout=60)
    assert not abandoned_alive()
    assert {key for key in keys(s3, bucket) if key.startswith(f"image/{slow_id}/")} == {
        f"image/{slow_id}/claim.json",  # taken before the work began
        f"image/{slow_id}/manifest.json",
    }
    monkeypatch.setattr(handler_module, "process", real_process)  # the retry, once it ended
    assert lambda_handler(s3_event(bucket, f"temp/{next_id}"), FakeContext())["outcomes"] == [
        "ready"
    ]


def test_a_record_after_the_deadline_is_not_started_and_a_retry_finishes_it(
    s3: Any, bucket: str, callback_server: CallbackServer, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    context = FakeContext(remaining_ms=30_000)
    real_process = handler_module.process

    def process_then_time_passes(data: bytes, spec: Any, checkpoint: Any = None) -> Any:
        result = real_process(data, spec, checkpoint)
        context.remaining_ms = int((RESERVE_S + 0.05) * 1000)  # less than MIN_START_S left
        return result

    monkeypatch.setattr(handler_module, "process", process_then_time_passes)
    first, second = upload(s3, bucket, images.jpeg()), upload(s3, bucket, images.jpeg())
    event = s3_event(bucket, f"temp/{first}", f"temp/{second}")
    with pytest.raises(DeadlineError):
        lambda_handler(event, context)

    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(line["upload_id"], line["outcome"]) for line in lines] == [
        (first, "ready"), (second, "error")
    ]  # fmt: skip
    assert "not started" in lines[1]["error"]
    assert [payload["upload_id"] for payload in callback_server.payloads()] == [first]
    assert f"temp/{second}" in keys(s3, bucket)  # kept for the retry
    assert f"image/{second}/manifest.json" not in keys(s3, bucket)

    # Lambda retries the event with a fresh invocation: the first resends, the second runs.
    assert lambda_handler(event, FakeContext())["outcomes"] == ["resent", "ready"]


def test_the_reserve_shrinks_for_short_functions_and_defaults_outside_lambda(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(deadline_module, "RESERVE_S", 4.0)
    monkeypatch.setattr(deadline_module, "MIN_START_S", 2.0)
    monkeypatch.setattr(deadline_module, "MAX_SHARE", 0.25)
    roomy = Deadline.from_context(FakeContext(remaining_ms=30_000))
    assert (roomy.reserve_s, roomy.min_start_s) == (4.0, 2.0)
    short = Deadline.from_context(FakeContext(remaining_ms=6_000))
    assert (short.reserve_s, short.min_start_s) == (1.5, 1.5)
    short.ensure_can_start()  # a short function still gets to work
    outside = Deadline.from_context(object())  # scripts: Lambda's longest time
    assert outside.left_s() > 800
