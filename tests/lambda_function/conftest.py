"""Lambda test fixtures: no Django; real S3 over HTTP, real HTTP callbacks.

The S3 server (moto's, ``s3_server``), ``aws_client`` and the fake AWS credentials
come from the shipped pytest plugin (async_image_upload.testing.pytest_plugin).
"""

from __future__ import annotations

import http.server
import io
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from PIL import Image, ImageOps

from lambda_function import handler
from lambda_function.config import get_config
from lambda_function.pipeline import Output, Spec, VariantSpec

from .images import CAMERA_SENTINEL, COMMENT_SENTINEL, XMP_SENTINEL

DEFAULT_VARIANTS = tuple(
    VariantSpec.parse(name) for name in ("50x50", "100x100", "400x400", "original")
)
SECRET = "test-callback-secret"


@pytest.fixture
def spec() -> Spec:
    return Spec(variants=DEFAULT_VARIANTS)


def shown(output: Output) -> Image.Image:
    """Decode an output the way a browser shows it: EXIF orientation applied."""
    image = Image.open(io.BytesIO(output.data))
    return ImageOps.exif_transpose(image).convert("RGB")


def assert_clean(output: Output) -> None:
    """No camera, GPS, XMP or comment in the bytes; at most an Orientation tag in EXIF."""
    assert CAMERA_SENTINEL.encode() not in output.data
    assert XMP_SENTINEL not in output.data
    assert COMMENT_SENTINEL not in output.data
    image = Image.open(io.BytesIO(output.data))
    exif = image.getexif()
    assert set(exif) <= {0x0112}, dict(exif)
    assert not exif.get_ifd(0x8825)  # GPS
    assert "xmp" not in image.info and "comment" not in image.info


# -- S3 and callback servers --------------------------------------------------


@dataclass
class Reply:
    """A scripted answer with a body and headers; a bare int in the script has neither."""

    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class CallbackServer:
    """A real HTTP endpoint recording every callback; ``responses`` scripts its answers.

    GET answers 200 with a login page (what a redirect usually lands on) and is
    recorded in ``gets``.
    """

    url: str
    requests: list[dict[str, Any]] = field(default_factory=list)
    responses: list[int | Reply] = field(default_factory=list)
    default_status: int | Reply = 200
    gets: list[str] = field(default_factory=list)

    def payloads(self) -> list[dict[str, Any]]:
        return [json.loads(request["body"]) for request in self.requests]


@pytest.fixture
def callback_server() -> Iterator[CallbackServer]:
    state = CallbackServer(url="")

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            state.requests.append({"headers": dict(self.headers), "body": body})
            reply = state.responses.pop(0) if state.responses else state.default_status
            if isinstance(reply, int):
                reply = Reply(reply)
            self.send_response(reply.status)
            for name, value in reply.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(reply.body)))
            self.end_headers()
            self.wfile.write(reply.body)

        def do_GET(self) -> None:
            state.gets.append(self.path)
            body = b"<html><form>Log in</form></html>"
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/uploads/callback/"
    yield state
    server.shutdown()
    server.server_close()
    thread.join()


@pytest.fixture
def lambda_env(
    monkeypatch: pytest.MonkeyPatch, s3_server: str, callback_server: CallbackServer
) -> Iterator[dict[str, str]]:
    """Environment of a deployed Lambda pointed at moto and the callback server.

    AWS credentials and region are the plugin's fake ones (``fake_aws_credentials``).
    """
    env = {
        "S3_ENDPOINT_URL": s3_server,
        "CALLBACK_URL": callback_server.url,
        "CALLBACK_SECRET": SECRET,
        "CALLBACK_MAX_ATTEMPTS": "3",
        "CALLBACK_TIMEOUT": "2",
    }
    monkeypatch.delenv("KEEP_SOURCE", raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    get_config.cache_clear()
    handler._client.cache_clear()
    yield env
    get_config.cache_clear()
    handler._client.cache_clear()


@pytest.fixture
def reload_config() -> Iterator[Any]:
    """Call after changing the environment inside a test: re-reads it like a cold start."""
    yield get_config.cache_clear
    get_config.cache_clear()


_bucket_counter = iter(range(1_000_000))


@pytest.fixture
def s3(lambda_env: dict[str, str], aws_client: Any) -> Any:
    return aws_client("s3")


@pytest.fixture
def bucket(s3: Any) -> str:
    name = f"uploads-{next(_bucket_counter)}"
    s3.create_bucket(Bucket=name)
    return name


class FakeContext:
    """The part of Lambda's context object the handler uses."""

    def __init__(self, remaining_ms: int = 30_000) -> None:
        self.remaining_ms = remaining_ms

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms


@pytest.fixture
def context() -> FakeContext:
    return FakeContext()
