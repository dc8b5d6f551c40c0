"""The example project is copied into real projects: it must be safe to copy (issue 12.7, 12.9)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLE = Path(__file__).resolve().parents[2] / "example_project"
INDEX = EXAMPLE / "photos" / "templates" / "photos" / "index.html"


def _import_settings(**env: str) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    environment.update(env, PYTHONPATH=str(EXAMPLE))
    return subprocess.run(
        [sys.executable, "-c", "import example.settings as s; print(s.SECRET_KEY)"],
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_the_public_secret_key_is_refused_outside_debug() -> None:
    result = _import_settings(DJANGO_DEBUG="0")
    assert result.returncode != 0
    assert "ImproperlyConfigured: Set DJANGO_SECRET_KEY" in result.stderr


@pytest.mark.parametrize(
    ("env", "key"),
    [
        ({"DJANGO_DEBUG": "1"}, "example-project-insecure-key-change-me"),
        ({"DJANGO_DEBUG": "0", "DJANGO_SECRET_KEY": "a-real-secret"}, "a-real-secret"),
    ],
)
def test_debug_keeps_the_built_in_key_and_production_uses_its_own(
    env: dict[str, str], key: str
) -> None:
    result = _import_settings(**env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == key


def test_the_placeholder_reaches_css_only_through_the_tag() -> None:
    """Autoescaping fits HTML attributes, not CSS: ``url('{{ … }}')`` let a quote break out.

    The gallery renders its images with ``{% async_img %}``, which checks the
    placeholder and writes it as an escaped CSS string (tests/app/test_display.py
    tries hostile values); the template itself never writes it.
    """
    template = INDEX.read_text()
    assert re.search(r"\{%\s*async_img\s+photo\.image\b", template)
    assert not re.search(r"\{\{\s*photo\.image\.placeholder\b", template)
    assert "url('{{" not in template and 'url("{{' not in template and "url({{" not in template
