"""The README's main command, as a subprocess: embedded S3 → Lambda → Django, for real."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

EXAMPLE = Path(__file__).resolve().parents[2] / "example_project"
#: The stack runs from example_project/: put this checkout's app first on its path,
#: not whichever copy the environment has installed.
CHECKOUT_PATH = os.pathsep.join(filter(None, [str(EXAMPLE.parent), os.environ.get("PYTHONPATH")]))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def ignore_sigint() -> None:
    """What a non-interactive shell does to the background jobs it starts (CI, scripts)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def run_stack(
    tmp_path: Path, *args: str, timeout: int = 120, sigint_ignored: bool = False
) -> subprocess.CompletedProcess:
    env = {**os.environ, "EXAMPLE_DB": str(tmp_path / "db.sqlite3"), "PYTHONUNBUFFERED": "1"}
    env["PYTHONPATH"] = CHECKOUT_PATH
    env.pop("DJANGO_SETTINGS_MODULE", None)
    return subprocess.run(
        [sys.executable, "manage.py", "run_local_stack", "--demo-user", "demo:demo", *args],
        cwd=EXAMPLE,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        preexec_fn=ignore_sigint if sigint_ignored else None,
    )


def test_smoke_upload_goes_in_and_thumbnails_come_out(tmp_path) -> None:
    port, s3_port = free_port(), free_port()
    done = run_stack(
        tmp_path, "--port", str(port), "--s3-port", str(s3_port), "--smoke", "--exit-after-smoke"
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    assert f"Local stack ready. Open http://127.0.0.1:{port}/" in output
    assert ": ready (" in output
    for variant in ("50x50", "100x100", "400x400", "original"):
        assert f"    {variant} " in output
        assert f"    {variant} blurred" in output
    assert "Local stack stopped." in output


def test_exit_after_smoke_works_where_sigint_is_ignored(tmp_path) -> None:
    """A background job of a script or CI has SIGINT ignored; the stack must still stop.

    It used to stop itself with _thread.interrupt_main(), a simulated SIGINT that
    does nothing there, and kept serving until killed.
    """
    done = run_stack(
        tmp_path,
        *("--port", str(free_port()), "--s3-port", str(free_port())),
        *("--smoke", "--exit-after-smoke"),
        timeout=90,
        sigint_ignored=True,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    assert ": ready (" in output
    assert "Local stack stopped." in output


def test_smoke_with_a_bad_file_fails_loudly(tmp_path) -> None:
    bad = tmp_path / "not-a-photo.jpg"
    bad.write_text("this is text, renamed .jpg\n" * 20)
    done = run_stack(
        tmp_path,
        "--port",
        str(free_port()),
        "--s3-port",
        str(free_port()),
        "--smoke",
        str(bad),
        "--exit-after-smoke",
    )
    output = done.stdout + done.stderr
    assert done.returncode != 0
    assert "failed" in output and "unsupported_format" in output


def test_taken_port_is_a_readable_error(tmp_path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        taken = busy.getsockname()[1]
        done = run_stack(tmp_path, "--port", str(taken), "--s3-port", str(free_port()), timeout=60)
    assert done.returncode == 1
    assert f"Port {taken} on 127.0.0.1 (for Django) is taken" in done.stderr
    assert "Traceback" not in done.stderr


def test_upload_photos_needs_files(tmp_path) -> None:
    with pytest.raises(CommandError, match="No image files found"):
        call_command("upload_photos", str(tmp_path))
    with pytest.raises(CommandError, match="no such file or folder"):
        call_command("upload_photos", str(tmp_path / "missing.jpg"))


def test_upload_photos_reports_an_unreachable_api(tmp_path) -> None:
    photo = tmp_path / "a.jpg"
    photo.write_bytes(b"\xff\xd8\xff" + b"0" * 100)
    with pytest.raises(CommandError, match="1 of 1 uploads did not end ready"):
        call_command("upload_photos", str(photo), "--api", f"http://127.0.0.1:{free_port()}/api/")


def test_sigterm_stops_everything_cleanly(tmp_path) -> None:
    """A service manager (or a backgrounded shell job, where SIGINT is ignored) sends SIGTERM."""
    import signal
    import time

    port, s3_port = free_port(), free_port()
    env = {**os.environ, "EXAMPLE_DB": str(tmp_path / "db.sqlite3"), "PYTHONUNBUFFERED": "1"}
    env["PYTHONPATH"] = CHECKOUT_PATH
    env.pop("DJANGO_SETTINGS_MODULE", None)
    process = subprocess.Popen(
        [
            sys.executable,
            "manage.py",
            "run_local_stack",
            "--port",
            str(port),
            "--s3-port",
            str(s3_port),
        ],
        cwd=EXAMPLE,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.2)
        else:
            pytest.fail("the local stack did not start listening")
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        process.stdout.close()  # also when it failed early: no unclosed pipe for a later test
    assert process.returncode == 0, output
    assert "Local stack stopped." in output
    for number in (port, s3_port):
        with socket.socket() as probe:
            assert probe.connect_ex(("127.0.0.1", number)) != 0, f"port {number} still open"
