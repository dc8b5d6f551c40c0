"""A callback body far over a sane size is refused before it is parsed or held whole.

``CALLBACK_MAX_BODY_BYTES`` (256 KiB by default) bounds what the endpoint reads.
With a Content-Length the refusal comes from the header alone; without one
(``Transfer-Encoding: chunked``) the view reads at most one byte past the limit,
so an unauthenticated sender cannot make the server hold a huge body in memory.
"""

from __future__ import annotations

import asyncio
import io
import json
import time
import tracemalloc
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from django.core.handlers.asgi import ASGIHandler
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections

from async_image_upload.conf import upload_settings
from async_image_upload.testing import callback_payload, signed_callback_headers

URL = "/uploads/callback/"
MIB = 1024 * 1024
# Django's real handlers (not the test client) run here, so the request signals fire.
pytestmark = pytest.mark.django_db


@contextmanager
def connections_kept() -> Iterator[None]:
    """Keep the real handlers from closing the test's connection (and its transaction),
    exactly as Django's own test client does."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


def test_huge_body_with_content_length_is_413_before_the_signature(api_client: Any) -> None:
    """20 MiB of junk, unsigned: 413 (not 401), so the size check runs first."""
    body = b"x" * (20 * MIB)
    started = time.perf_counter()
    response = api_client.generic("POST", URL, body, content_type="application/json")
    assert response.status_code == 413
    assert response.json() == {"detail": "Callback body too large."}
    assert time.perf_counter() - started < 2


def test_signed_body_over_the_limit_is_413_even_though_authentic(api_client: Any) -> None:
    """The limit is not a signature check: a genuine but oversized body is still refused."""
    limit = int(upload_settings.CALLBACK_MAX_BODY_BYTES)
    body = json.dumps({"pad": "x" * limit}).encode()
    response = api_client.generic(
        "POST", URL, body, content_type="application/json", headers=signed_callback_headers(body)
    )
    assert response.status_code == 413


def test_lying_content_length_reads_no_more_than_the_limit() -> None:
    """A small Content-Length over a huge stream: the handler never reads past it."""
    stream = CountingStream(b"{" + b"x" * (8 * MIB))
    status = call_wsgi(stream, {"CONTENT_LENGTH": "10"})
    assert status.startswith("401")  # ten bytes of junk, unsigned
    assert stream.consumed <= 10


class CountingStream(io.BytesIO):
    """A wsgi.input that records how many bytes the application pulled from it."""

    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        self.consumed = 0

    def read(self, size: int | None = -1) -> bytes:
        chunk = super().read(size)
        self.consumed += len(chunk)
        return chunk

    def readline(self, size: int | None = -1) -> bytes:
        chunk = super().readline(size)
        self.consumed += len(chunk)
        return chunk


def call_wsgi(stream: CountingStream, extra: dict[str, str]) -> str:
    """Call Django's real WSGI handler with a hand-made environ (no test client in between)."""
    environ = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": URL,
        "SERVER_NAME": "testserver",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "CONTENT_TYPE": "application/json",
        "wsgi.input": stream,
        "wsgi.url_scheme": "http",
        "wsgi.errors": io.StringIO(),
        **extra,
    }
    statuses: list[str] = []
    with connections_kept():
        result = WSGIHandler()(
            environ, lambda status, headers, exc_info=None: statuses.append(status)
        )
        b"".join(result)
        result.close()
    return statuses[0]


def test_chunked_body_without_content_length_under_wsgi_is_never_read() -> None:
    """WSGI servers (gunicorn too) pass a chunked body with no CONTENT_LENGTH; Django
    reads none of it, so the callback sees an empty, unsigned body: 401."""
    stream = CountingStream(b"x" * (8 * MIB))
    status = call_wsgi(stream, {"HTTP_TRANSFER_ENCODING": "chunked"})
    assert status.startswith("401")
    assert stream.consumed <= int(upload_settings.CALLBACK_MAX_BODY_BYTES) + 1


def call_asgi(chunks: list[bytes], headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    """Stream a chunked body (no content-length) through Django's real ASGI handler."""
    pending = list(chunks)
    messages: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        if pending:
            body = pending.pop(0)
            return {"type": "http.request", "body": body, "more_body": bool(pending)}
        await asyncio.Future()  # the client stays connected until the response ends
        raise AssertionError("unreachable")

    async def send(message: dict[str, Any]) -> None:
        messages.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": URL,
        "raw_path": URL.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [
            (b"host", b"testserver"),
            (b"content-type", b"application/json"),
            *((name.lower().encode(), value.encode()) for name, value in (headers or {}).items()),
        ],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
    }
    # Under ASGI the view runs in asgiref's own thread with its own connection, which
    # the handler's request_finished closes; the test's connection is never involved.
    asyncio.run(ASGIHandler()(scope, receive, send))
    start = next(m for m in messages if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in messages if m["type"] == "http.response.body")
    return start["status"], body


@pytest.mark.parametrize("django_cap", [None, 2_621_440], ids=["no-django-cap", "django-default"])
def test_chunked_body_under_asgi_is_413_without_holding_it_in_memory(
    settings: Any, django_cap: int | None
) -> None:
    """Under ASGI a chunked body does reach the view (Django spools it to disk first).
    The view reads only up to the limit: 64 MiB in, far less allocated, and a 413
    whatever ``DATA_UPLOAD_MAX_MEMORY_SIZE`` is (upload-heavy sites often set None)."""
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = django_cap
    tracemalloc.start()
    try:
        status, body = call_asgi([b"x" * MIB] * 64)
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert status == 413
    assert json.loads(body) == {"detail": "Callback body too large."}
    # Django's own spool keeps FILE_UPLOAD_MAX_MEMORY_SIZE (2.5 MiB) in memory, plus a
    # chunk in flight; reading the whole body would allocate 64 MiB at least.
    assert peak < 16 * MIB, f"peak {peak / MIB:.1f} MiB"


@pytest.mark.django_db(transaction=True)
def test_chunked_signed_callback_under_asgi_is_applied(make_upload: Any) -> None:
    """Reading in bounded steps must not break a legitimate callback sent in chunks.

    Transactional: under ASGI the view runs in another thread with its own connection,
    which must see the committed upload row."""
    upload = make_upload()
    raw = json.dumps(callback_payload(upload)).encode()
    pieces = [raw[i : i + 100] for i in range(0, len(raw), 100)]
    status, body = call_asgi(pieces, signed_callback_headers(raw))
    assert status == 200, body
    assert json.loads(body)["outcome"] == "applied"
    upload.refresh_from_db()
    assert upload.status == "ready"
