"""The time one invocation may spend, and a watchdog so a slow input still ends ``failed``.

Lambda kills an invocation at its timeout without warning: no manifest, no
callback, two retries that die the same way, and the upload stays ``pending``
until reconcile expires it. So the handler keeps a *reserve* of the remaining
time for what must happen after processing (write the failed manifest, send
one callback), and:

* **stages check the time.** :meth:`Deadline.checkpoint` runs between stages
  (before the download, after each pipeline stage) and raises
  ``processing_timeout`` once only the reserve is left;
* **a watchdog covers what a checkpoint cannot interrupt** (one long decode
  inside libjpeg or libheif). :func:`run_watched` runs a record's work in a
  worker thread and waits on it for the time left before the reserve. Pillow's
  decoders release the GIL while they run (``ImagingSectionEnter``), so the
  waiting thread wakes on time (tested). On an overrun the caller reports
  ``processing_timeout`` from its own thread and the worker is *abandoned*;
* **a record is started only with enough time** (:meth:`Deadline.ensure_can_start`);
  a record that cannot start raises :class:`DeadlineError`, a transient fault,
  so Lambda retries the event (records already done resend their manifest);
* **what is loaded on first use is inside the budget.** The S3 client (and
  botocore's import) is made in the first invocation and the handler asks
  ``ensure_can_start`` again after it; codecs and colour management
  (pillow-heif, ``PIL.ImageCms``) are imported by the worker when an image
  needs them, so the watchdog times them like the decode they precede.

An abandoned worker cannot be killed (Python has no way to stop a thread).
It is told to stop (its next checkpoint raises, and it checks before every
output PUT, so it writes nothing after the failure was reported but a PUT
already in flight) and recorded here. Lambda freezes the process
when the invocation returns and may thaw it for the next one, where that thread
would resume and compete for CPU and memory (the memory budget assumes the
whole function). So while an abandoned worker is still alive, no record is
started in this process: each raises :class:`DeadlineError` and its event is
retried, by then in a process that is free. The registry is per process, so in
the local stack (several handler threads in one process) one overrun defers
the others' records too, until the worker ends.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from .errors import ErrorCode, ImageError

T = TypeVar("T")

#: Time kept for the failure path: one manifest PUT (~0.1 s, 1 s allowed), one
#: callback attempt (~0.1 s, 2 s allowed) and the callback's own 1 s safety margin.
RESERVE_S = 4.0
#: A record is started only if at least this much time is left beyond the reserve:
#: a 12 MP photo takes ~0.5 s; with less, a retry does better than a timeout.
MIN_START_S = 2.0
#: For short functions both shrink to this share of the invocation's time each.
MAX_SHARE = 0.25
#: Outside Lambda (scripts, the local stack without a context) the time is Lambda's maximum.
NO_CONTEXT_S = 900.0

_abandoned: list[threading.Thread] = []
_abandoned_lock = threading.Lock()


class DeadlineError(Exception):
    """A record was not started (too little time, or an abandoned worker still runs).

    Transient: raised after the other records ran, so Lambda retries the event.
    """


class WorkCalledOff(Exception):
    """Ends an abandoned worker; only ever raised in a thread nobody waits for."""


def processing_timeout(detail: str) -> ImageError:
    return ImageError(ErrorCode.PROCESSING_TIMEOUT, detail)


@dataclass
class Deadline:
    """The invocation's remaining time, minus the reserve the failure path needs."""

    remaining_s: Callable[[], float]
    reserve_s: float = RESERVE_S
    min_start_s: float = MIN_START_S
    cancelled: threading.Event = field(default_factory=threading.Event)

    @classmethod
    def from_context(cls, context: Any) -> Deadline:
        """Read Lambda's clock from ``context``; shrink the reserve for short functions."""
        getter = getattr(context, "get_remaining_time_in_millis", None)
        if getter is None:
            end = time.monotonic() + NO_CONTEXT_S
            remaining_s: Callable[[], float] = lambda: end - time.monotonic()  # noqa: E731
        else:
            remaining_s = lambda: getter() / 1000  # noqa: E731
        total = remaining_s()
        return cls(
            remaining_s,
            reserve_s=min(RESERVE_S, MAX_SHARE * total),
            min_start_s=min(MIN_START_S, MAX_SHARE * total),
        )

    def left_s(self) -> float:
        """Seconds processing may still use before the reserve."""
        return self.remaining_s() - self.reserve_s

    def ensure_can_start(self) -> None:
        """Raise :class:`DeadlineError` unless a new record may start now."""
        if abandoned_alive():
            raise DeadlineError(
                "a previous record's worker is still running in this process; "
                "the record was not started (the event is retried)"
            )
        left = self.left_s()
        if left < self.min_start_s:
            raise DeadlineError(
                f"{max(left, 0):.1f} s left before the reserve; the record was not started "
                "(the event is retried)"
            )

    def checkpoint(self) -> None:
        """Between stages: raise ``processing_timeout`` if time is up or the work was called off."""
        if self.cancelled.is_set():
            raise processing_timeout("processing was called off at the deadline")
        if self.left_s() <= 0:
            raise processing_timeout(
                "processing did not finish within the function's time "
                f"(less than {self.reserve_s:.1f} s was left for reporting)"
            )

    def stop_if_called_off(self) -> None:
        """Raise :class:`WorkCalledOff` in a worker the watchdog gave up on.

        Used where a failure can no longer be reported by this worker (between
        output PUTs): the watchdog already reported the timeout, so the worker
        just ends, writing nothing more.
        """
        if self.cancelled.is_set():
            raise WorkCalledOff("the watchdog reported a timeout; this worker writes nothing more")

    def for_record(self) -> Deadline:
        """The same clock with its own stop flag, for one record's worker."""
        return Deadline(self.remaining_s, self.reserve_s, self.min_start_s)


@dataclass
class Watched(Generic[T]):
    """What :func:`run_watched` saw: the work's result, or an overrun (``finished`` False)."""

    finished: bool
    value: T | None = None
    worker: threading.Thread | None = None


def run_watched(work: Callable[[], T], deadline: Deadline) -> Watched[T]:
    """Run ``work`` in a worker thread for at most ``deadline.left_s()`` seconds.

    Returns its result, re-raises its exception, or on an overrun sets
    ``deadline.cancelled``, abandons the thread (see the module docstring) and
    returns ``Watched(finished=False)`` so the caller reports the timeout.
    """
    outcome: dict[str, Any] = {}

    def target() -> None:
        try:
            outcome["value"] = work()
        except BaseException as error:  # handed to the waiting thread
            outcome["error"] = error

    worker = threading.Thread(target=target, name="image-record-worker", daemon=True)
    worker.start()
    worker.join(timeout=max(deadline.left_s(), 0.0))
    if worker.is_alive():
        deadline.cancelled.set()
        with _abandoned_lock:
            _abandoned.append(worker)
        return Watched(finished=False, worker=worker)
    if "error" in outcome:
        raise outcome["error"]
    return Watched(finished=True, value=outcome["value"], worker=worker)


def abandoned_alive() -> bool:
    """Whether a worker abandoned at a deadline is still running in this process."""
    with _abandoned_lock:
        _abandoned[:] = [thread for thread in _abandoned if thread.is_alive()]
        return bool(_abandoned)
