"""Deliver the signed callback with retries that respect the Lambda's deadline.

urllib rather than requests keeps the zip small. Connection errors, 408, 429
and 5xx are retried with exponential backoff and full jitter while time
remains; any other answer is final:

* 2xx: delivered.
* 404 (the upload row is gone) and 409 (the upload is already final with the
  other status): Django will never accept this result, so retrying is useless.
  Returned as a *rejected* :class:`Delivery` with Django's detail.
* 3xx: redirects are never followed (urllib would turn a POST into a GET and a
  login page's 200 would count as delivered); :class:`CallbackError`.
* any other 4xx (400, 401, 403, 413, ...): :class:`CallbackError`, since a
  configuration fix and a replay can cure them.

If delivery fails, :class:`CallbackError` propagates so Lambda's own retries
and the on-failure destination keep the event.

``urllib.request`` (with ``http.client`` and ``email``, ~30 ms of CPU) is
imported on the first delivery, not at INIT: by then botocore has loaded most of
it anyway for the S3 client.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .errors import CallbackError
from .once import once
from .signing import signed_headers

if TYPE_CHECKING:
    import urllib.error
    import urllib.request

RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
# Answers that no retry can change: the upload is unknown, or final with the other status.
REJECTED_STATUSES = frozenset({404, 409})
# How much of Django's answer is kept for the log.
MAX_DETAIL = 300
# Time kept in reserve so the handler can still log and return before Lambda kills it.
SAFETY_MARGIN_S = 1.0


@dataclass(frozen=True)
class Delivery:
    """How a delivery went: the final status and how many attempts it took."""

    status: int
    attempts: int
    detail: str | None = None

    @property
    def rejected(self) -> bool:
        """Django answered for good that it will not take this result (404 or 409)."""
        return self.status in REJECTED_STATUSES


def _retryable(status: int) -> bool:
    return status in RETRY_STATUSES or 500 <= status <= 599


@once
def _opener() -> urllib.request.OpenerDirector:
    """urllib's default handlers (proxies, HTTPS, errors) minus redirects, built on first use."""
    import urllib.request

    class NoRedirects(urllib.request.HTTPRedirectHandler):
        """Turn every redirect into an :class:`urllib.error.HTTPError` instead of following it."""

        def redirect_request(self, *args: object, **kwargs: object) -> None:
            return None

    return urllib.request.build_opener(NoRedirects)


def _detail(error: urllib.error.HTTPError) -> str:
    """Django's ``detail`` (or the raw body), cut to ``MAX_DETAIL`` characters."""
    try:
        raw = error.read(4096)
    except (OSError, ValueError):
        raw = b""
    text = raw.decode("utf-8", "replace").strip()
    try:
        body = json.loads(text)
    except ValueError:
        body = None
    if isinstance(body, dict) and "detail" in body:
        text = str(body["detail"])
        if "status" in body:
            text += f" (current status: {body['status']})"
    text = " ".join(text.split())
    if len(text) > MAX_DETAIL:
        text = text[: MAX_DETAIL - 1] + "\N{HORIZONTAL ELLIPSIS}"
    return text


def prepare() -> None:
    """Load the HTTP client now (the handler does on its first use) rather than mid-delivery."""
    _opener()


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
    import urllib.error
    import urllib.request

    opener = _opener()
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
            with opener.open(request, timeout=min(timeout_s, budget)) as response:
                return Delivery(response.status, attempt)
        except urllib.error.HTTPError as error:
            with error:
                if 300 <= error.code <= 399:
                    location = error.headers.get("Location") or "(no Location header)"
                    raise CallbackError(
                        f"CALLBACK_URL redirects to {location}; "
                        f"configure the final URL (got HTTP {error.code})"
                    ) from None
                if error.code in REJECTED_STATUSES:
                    return Delivery(error.code, attempt, _detail(error))
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
