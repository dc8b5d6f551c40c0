"""A callback endpoint that fails on demand, in front of the real Django server.

The Lambda's CALLBACK_URL points here. Each mode is a fault the design promises
to survive: ``down`` (nothing listens: connection refused), ``error`` (HTTP 503),
``slow`` (no answer before the Lambda's callback timeout), ``hold`` (the request
hangs until released: the moment to kill a worker mid-upload) and ``pass``.
"""

from __future__ import annotations

import http.client
import socket
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

MODES = ("pass", "error", "slow", "hold")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class FlakyEndpoint:
    """Forwards POSTs to ``target`` (scheme://host:port) unless told to fail."""

    def __init__(self, target: str, *, slow_s: float = 3.0) -> None:
        parts = urlsplit(target)
        self.target_host, self.target_port = parts.hostname or "127.0.0.1", parts.port or 80
        self.port = free_port()
        self.mode = "pass"
        self.slow_s = slow_s
        #: Requests seen per mode, so a test can prove each fault was really hit.
        self.seen: Counter[str] = Counter()
        self.arrived = threading.Event()
        self.released = threading.Event()
        self._server: ThreadingHTTPServer | None = None

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def up(self, mode: str = "pass") -> None:
        assert mode in MODES
        self.mode = mode
        if self._server is None:
            self._server = ThreadingHTTPServer(("127.0.0.1", self.port), self._handler_class())
            self._server.daemon_threads = True
            threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def down(self) -> None:
        """Stop listening: every attempt now ends in connection refused."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def close(self) -> None:
        self.released.set()
        self.down()

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: object) -> None:  # quiet
                return

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                mode = endpoint.mode
                endpoint.seen[mode] += 1
                if mode == "error":
                    self._answer(503, b'{"detail": "maintenance"}')
                elif mode == "slow":
                    time.sleep(endpoint.slow_s)
                    self._answer(504, b"{}")
                elif mode == "hold":
                    endpoint.arrived.set()
                    endpoint.released.wait(60)
                    self._answer(503, b"{}")
                else:
                    status, answer = endpoint._forward(self.path, body, dict(self.headers))
                    self._answer(status, answer)

            def _answer(self, status: int, body: bytes) -> None:
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except OSError:  # the caller gave up (timeout) or was killed
                    pass

        return Handler

    def _forward(self, path: str, body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
        connection = http.client.HTTPConnection(self.target_host, self.target_port, timeout=30)
        try:
            connection.request("POST", path, body=body, headers=headers)
            response = connection.getresponse()
            return response.status, response.read()
        finally:
            connection.close()
