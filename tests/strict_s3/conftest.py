"""A stricter S3 for the presigned-POST tests: LocalStack in host mode, no Docker.

moto's S3 accepts any POST; LocalStack checks the POST policy's expiry and its
conditions (exact fields, ``content-length-range``) as S3 does. It needs its own
virtualenv (``localstack-core`` pins many packages), made by
``bash tests/strict_s3/install_localstack.sh``. The tests start it on a free
loopback port for the session, or use ``LOCALSTACK_URL`` when one is running.
Without either they are skipped, except in CI (``CI=true``), where that fails.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from async_image_upload.testing.pytest_plugin import S3Bucket, new_bucket

REPO = Path(__file__).resolve().parents[2]
#: Where the install script puts LocalStack's own virtualenv (override with LOCALSTACK_PYTHON).
DEFAULT_PYTHON = REPO / ".venv-localstack" / "bin" / "python"
START_TIMEOUT_S = 90


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "strict_s3: needs LocalStack (tests/strict_s3/install_localstack.sh)"
    )


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/_localstack/health", timeout=1) as response:
            body = response.read()
    except OSError:
        return False
    return b'"s3": "available"' in body or b'"s3": "running"' in body


def _unavailable(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"strict S3 tier cannot run in CI: {reason}")
    pytest.skip(reason)


#: LocalStack's environment: only S3, on loopback, nothing fetched from outside
#: (no analytics, no DNS server, no certificate download), signatures checked.
LOCALSTACK_ENV = {
    "SERVICES": "s3",
    "DISABLE_EVENTS": "1",
    "SKIP_SSL_CERT_DOWNLOAD": "1",
    "DNS_ADDRESS": "0",
    "S3_SKIP_SIGNATURE_VALIDATION": "0",
    "LOCALSTACK_TELEMETRY": "0",
}


@pytest.fixture(scope="session")
def localstack_url() -> Iterator[str]:
    """The endpoint of a LocalStack S3: ``LOCALSTACK_URL``, or one started for the session."""
    given = os.environ.get("LOCALSTACK_URL")
    if given:
        if not _healthy(given.rstrip("/")):
            _unavailable(f"LOCALSTACK_URL={given} does not answer")
        yield given.rstrip("/")
        return
    python = Path(os.environ.get("LOCALSTACK_PYTHON", DEFAULT_PYTHON))
    if not python.exists():
        _unavailable(f"{python} is missing: run `bash tests/strict_s3/install_localstack.sh`")
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    root = Path(tempfile.mkdtemp(prefix="aiu-localstack-"))
    log_path = root / "localstack.log"
    env = {
        **os.environ,
        **LOCALSTACK_ENV,
        "GATEWAY_LISTEN": f"127.0.0.1:{port}",
        # Host mode keeps its state and caches under here, not in /var/lib/localstack.
        "FILESYSTEM_ROOT": str(root / "fs"),
    }
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [str(python), "-m", "localstack.runtime.main"],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=root,
            start_new_session=True,  # its own process group, so teardown ends its children too
        )
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while not _healthy(url):
            if process.poll() is not None or time.monotonic() > deadline:
                tail = log_path.read_text(errors="replace")[-3000:]
                pytest.fail(f"LocalStack did not start on {url}:\n{tail}")
            time.sleep(0.2)
        yield url
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def strict_bucket(localstack_url: str, settings: Any) -> S3Bucket:
    """A fresh bucket on LocalStack, with the app's settings pointing at it."""
    return new_bucket(localstack_url, settings, prefix="aiu-strict")
