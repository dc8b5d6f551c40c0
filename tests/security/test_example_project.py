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


def test_the_placeholder_is_only_ever_an_img_src() -> None:
    """Autoescaping fits HTML attributes, not CSS: ``url('{{ … }}')`` let a quote break out."""
    template = INDEX.read_text()
    uses = [m.start() for m in re.finditer(r"\{\{\s*photo\.image\.placeholder\b", template)]
    assert uses
    for start in uses:
        assert template[:start].endswith('src="'), template[start - 80 : start + 40]
    assert "url('{{" not in template and 'url("{{' not in template
