"""Deliver the signed callback with retries that respect the Lambda's deadline.

urllib rather than requests keeps the zip small. Connection errors, 408, 429
and 5xx are retried with exponential backoff and full jitter while time
remains; any other answer is final. If delivery still fails,
:class:`CallbackError` propagates so Lambda's own retries and the on-failure
destination keep the event.
"""

from __future__ import annotations

import random
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass

from .errors import CallbackError
from .signing import signed_headers

RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
# Time kept in reserve so the handler can still log and return before Lambda kills it.
SAFETY_MARGIN_S = 1.0


@dataclass(frozen=True)
class Delivery:
    """How a delivery went: the final status and how many attempts it took."""

    status: int
    attempts: int


def _retryable(status: int) -> bool:
    return status in RETRY_STATUSES or 500 <= status <= 599


def send(
    url: str,
    secret: str,
    body: bytes,
    *,
    remaining_s: Callable[[], float],
    timeout_s: float = 5.0,
    max_attempts: int = 5,
    base_delay_s: float = 0.25,
    max_delay_s: float = 4.0,
    sleep: Callable[[float], None] = time.sleep,
) -> Delivery:
    """POST ``body`` to ``url``, signed afresh on every attempt (the timestamp moves on)."""
    last_problem = "no time left for an attempt"
    attempts_made = 0
    for attempt in range(1, max_attempts + 1):
        budget = remaining_s() - SAFETY_MARGIN_S
        if budget <= 0.1:
            break
        attempts_made = attempt
        request = urllib.request.Request(  # noqa: S310 - URL validated as http(s) in config
            url, data=body, headers=signed_headers(secret, body), method="POST"
        )
        try:
            with urllib.request.urlopen(request, timeout=min(timeout_s, budget)) as response:  # noqa: S310
                return Delivery(response.status, attempt)
        except urllib.error.HTTPError as error:
            error.close()
            if not _retryable(error.code):
                raise CallbackError(f"callback rejected with HTTP {error.code}") from None
            last_problem = f"HTTP {error.code}"
        except (urllib.error.URLError, TimeoutError, ConnectionError) as error:
            last_problem = f"{type(error).__name__}: {error}"
        if attempt == max_attempts:
            break
        ceiling = min(max_delay_s, base_delay_s * 2 ** (attempt - 1))
        delay = random.uniform(0, ceiling)  # noqa: S311 - jitter, not cryptography
        if delay >= remaining_s() - SAFETY_MARGIN_S - 0.1:
            break
        sleep(delay)
    raise CallbackError(f"callback not delivered after {attempts_made} attempt(s): {last_problem}")
