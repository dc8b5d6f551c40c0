"""docs/testing.md's complete downstream test, run as printed in a fresh pytest-django.

The block is written to a temp dir next to a ``myapp`` package whose ``models``
is the test app's, and a settings module that is the test project's settings;
pytest then runs it in a subprocess, with the plugin loaded through its entry
point as in a user's project. When the doc changes, this runs the new block.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "testing.md"


def example_test() -> str:
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(), flags=re.S)
    return next(block for block in blocks if block.startswith("# tests/test_photo_upload.py"))


def test_the_docs_downstream_test_passes_under_pytest_django(tmp_path: Path) -> None:
    (tmp_path / "myapp").mkdir()
    (tmp_path / "myapp" / "__init__.py").write_text("")
    (tmp_path / "myapp" / "models.py").write_text("from tests.testapp.models import Photo\n")
    # The doc's field id is myapp.Photo.image; the test app's model is testapp.Photo.
    source = example_test().replace('"myapp.Photo.image"', '"testapp.Photo.image"')
    (tmp_path / "test_photo_upload.py").write_text(source)
    (tmp_path / "downstream_settings.py").write_text("from tests.settings import *  # noqa\n")
    # The child always uses its own in-memory SQLite: on PostgreSQL or MariaDB it
    # would create, then drop, the same test database this session is using.
    env = {
        **{name: value for name, value in os.environ.items() if name != "DATABASE_URL"},
        "PYTHONPATH": os.pathsep.join([str(tmp_path), str(ROOT)]),
        "DJANGO_SETTINGS_MODULE": "downstream_settings",
    }
    completed = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_photo_upload.py"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert completed.returncode == 0, completed.stdout[-4000:] + completed.stderr[-2000:]
    assert "1 passed" in completed.stdout
