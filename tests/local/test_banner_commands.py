"""What run_local_stack prints is usable as printed: the upload_photos line runs from
any directory without an activated venv, and --demo-user without authtoken says
exactly what to add."""

from __future__ import annotations

import io
import os
import shlex
import subprocess
import sys

import pytest

from async_image_upload.management.commands.run_local_stack import (
    NO_AUTHTOKEN,
    Command,
    try_upload_command,
)


def test_the_try_line_runs_as_printed_from_elsewhere(tmp_path) -> None:
    line = try_upload_command("http://127.0.0.1:9/api/", "tok")
    argv = shlex.split(line)
    assert argv[0] == sys.executable and os.path.isabs(argv[0])
    sample = next(arg for arg in argv if arg.endswith(".jpg"))
    assert os.path.getsize(sample) > 0
    # No venv on PATH, another working directory: only what the line itself says.
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH")}
    env["PATH"] = "/usr/bin:/bin"
    env.pop("DJANGO_SETTINGS_MODULE", None)
    completed = subprocess.run(
        argv, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120, check=False
    )
    output = completed.stdout + completed.stderr
    # It got as far as talking to the (absent) API: the command, the project and the file
    # were all found.
    assert "Unknown command" not in output and "No module named" not in output, output
    assert "127.0.0.1:9" in output, output


@pytest.mark.django_db
def test_demo_user_without_authtoken_says_what_to_add(settings) -> None:
    settings.INSTALLED_APPS = [
        a for a in settings.INSTALLED_APPS if a != "rest_framework.authtoken"
    ]
    command = Command(stdout=io.StringIO(), stderr=io.StringIO())
    assert command.demo_user("demo:demo") == ""
    said = command.stderr._out.getvalue()  # type: ignore[attr-defined]
    assert NO_AUTHTOKEN in said
    assert '"rest_framework.authtoken" to INSTALLED_APPS' in said
    assert "TokenAuthentication" in said and "migrate" in said
