"""Fixtures for the browser tests: the real local stack in a subprocess, and Chromium.

The stack runs exactly as a user starts it (``manage.py run_local_stack``), on
free ports and a throw-away SQLite file, in its own process group so one
signal stops the dev server, the embedded S3 and the Lambda worker together.
"""

from __future__ import annotations

import importlib.util
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE_DIR = ROOT / "example_project"
CHROMIUM = Path(os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DEMO_USER, DEMO_PASSWORD = "demo", "demo"
STARTUP_TIMEOUT_S = 45


def require_browser() -> None:
    """Skip where the browser is not installed, but never in CI: there it must run."""
    missing = []
    if importlib.util.find_spec("playwright") is None:
        missing.append("the Python package playwright (pip install playwright)")
    if not CHROMIUM.exists():
        missing.append(f"{CHROMIUM} (apt-get install chromium)")
    if not missing:
        return
    reason = "browser tests need " + " and ".join(missing)
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{reason}; CI=true, so this is an error, not a skip.")
    pytest.skip(reason)


def free_ports(count: int) -> list[int]:
    """Ports the OS just handed out; held open together so they differ."""
    sockets = [socket.socket() for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


@dataclass(frozen=True)
class LocalStack:
    url: str
    s3_url: str
    token: str | None
    log_path: Path

    def log_tail(self, lines: int = 40) -> str:
        text = self.log_path.read_text(errors="replace")
        return "\n".join(text.splitlines()[-lines:])


def _wait_until_serving(process: subprocess.Popen[bytes], url: str, log_path: Path) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(
                f"run_local_stack exited with {process.returncode}:\n"
                + log_path.read_text(errors="replace")
            )
        try:
            with urllib.request.urlopen(url + "/admin/login/", timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.2)
    raise RuntimeError(
        f"run_local_stack not serving after {STARTUP_TIMEOUT_S} s:\n"
        + log_path.read_text(errors="replace")
    )


def _stop(process: subprocess.Popen[bytes]) -> None:
    """Ctrl-C for the whole group (the command's clean shutdown), then harder if it lingers.

    SIGTERM follows because a child inherits an ignored SIGINT when pytest
    itself runs as a background job of a non-interactive shell.
    """
    if process.poll() is not None:
        return
    for sig, grace in ((signal.SIGINT, 5), (signal.SIGTERM, 3), (signal.SIGKILL, 3)):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(timeout=grace)
            return
        except subprocess.TimeoutExpired:
            continue


@pytest.fixture(scope="module")
def local_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    require_browser()
    workdir = tmp_path_factory.mktemp("local_stack")
    port, s3_port = free_ports(2)
    env = {
        **os.environ,
        # pytest-django exported the test settings; the stack runs the example's.
        "DJANGO_SETTINGS_MODULE": "example.settings",
        "EXAMPLE_DB": str(workdir / "db.sqlite3"),
        "DJANGO_DEBUG": "1",  # runserver serves the static files (uploader.js) only in DEBUG
        "PYTHONUNBUFFERED": "1",
        # This checkout's app, not whichever one the environment has installed
        # (the stack runs from example_project/, so the root is not on sys.path).
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
    }
    log_path = workdir / "stack.log"
    command = [
        sys.executable,
        "manage.py",
        "run_local_stack",
        "--demo-user",
        f"{DEMO_USER}:{DEMO_PASSWORD}",
        "--port",
        str(port),
        "--s3-port",
        str(s3_port),
    ]
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command,
            cwd=EXAMPLE_DIR,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: one killpg stops everything
        )
    try:
        url = f"http://127.0.0.1:{port}"
        _wait_until_serving(process, url, log_path)
        token = re.search(r"API token:\s+(\w+)", log_path.read_text(errors="replace"))
        yield LocalStack(
            url=url,
            s3_url=f"http://127.0.0.1:{s3_port}",
            token=token.group(1) if token else None,
            log_path=log_path,
        )
    finally:
        _stop(process)


@pytest.fixture(scope="module")
def browser(local_stack: LocalStack) -> Iterator[Any]:
    """Debian's Chromium, never a downloaded one.

    Module scope on purpose: Playwright's sync API leaves an event loop set on
    the thread, which would make Django refuse database calls in later modules.
    """
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        try:
            yield instance
        finally:
            instance.close()


@pytest.fixture
def console() -> list[str]:
    """The page's console and uncaught errors, to explain a failure."""
    return []


@pytest.fixture
def page(browser: Any, local_stack: LocalStack, console: list[str]) -> Iterator[Any]:
    """A fresh context signed in as the demo user, on the upload page."""
    context = browser.new_context(viewport={"width": 1200, "height": 900})
    context.set_default_timeout(20_000)
    page = context.new_page()
    page.on(
        "console",
        lambda message: console.append(
            f"{message.type}: {message.text} ({message.location.get('url', '')})"
        ),
    )
    page.on("pageerror", lambda error: console.append(f"pageerror: {error}"))
    page.on(
        "response",
        lambda response: (
            response.status >= 400
            and console.append(f"http {response.status}: {response.request.method} {response.url}")
        ),
    )
    page.goto(f"{local_stack.url}/admin/login/?next=/")
    page.fill("#id_username", DEMO_USER)
    page.fill("#id_password", DEMO_PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url(f"{local_stack.url}/")
    try:
        yield page
    finally:
        context.close()
