"""Thread-safe one-time initialisation (plugin registration, shared colour profiles).

Several handlers may run as threads of one process (the local stack, the load
benchmark, an in-process replay). ``functools.cache`` would run a function twice
when two threads miss at once; what is registered or built here must happen once.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from functools import wraps
from typing import TypeVar

T = TypeVar("T")


def once(function: Callable[[], T]) -> Callable[[], T]:
    """Run ``function`` until it first succeeds, never twice at a time; then return its result.

    A call that raises is not remembered, so the next call tries again (an
    optional plugin that is missing stays an error for each upload that needs it).
    """
    lock = threading.Lock()
    results: list[T] = []

    @wraps(function)
    def wrapper() -> T:
        if not results:
            with lock:
                if not results:
                    results.append(function())
        return results[0]

    return wrapper
