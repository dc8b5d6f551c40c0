"""The sdist is a complete source release (pyproject.toml says why): check its file list.

Built in-process with hatchling (the `test` extra has it), so nothing is downloaded.
"""

from __future__ import annotations

import shutil
import subprocess
import tarfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
#: What the README's commands and the test suite need from an unpacked sdist.
REQUIRED = [
    "pyproject.toml",
    "README.md",
    "LICENSE",
    "Makefile",
    "mkdocs.yml",
    "async_image_upload/__init__.py",
    "lambda_function/handler.py",
    "tests/conftest.py",
    "tests/lambda_function/test_handler.py",
    "tests/strict_s3/install_localstack.sh",
    "example_project/manage.py",
    "example_project/example/settings.py",
    "benchmarks/__init__.py",
    "docs/local-stack.md",
]
#: Tracked files that are deliberately left out: the repository's own CI.
LEFT_OUT_PREFIXES = (".ci/",)


@pytest.fixture(scope="module")
def sdist_files(tmp_path_factory: pytest.TempPathFactory) -> set[str]:
    from hatchling.builders.sdist import SdistBuilder

    out = tmp_path_factory.mktemp("sdist")
    archive = Path(next(SdistBuilder(str(REPO)).build(directory=str(out))))
    with tarfile.open(archive) as tar:
        names = [m.name for m in tar.getmembers() if m.isfile()]
    top = names[0].split("/", 1)[0]
    return {name.split("/", 1)[1] for name in names if name.startswith(top + "/")}


def test_the_sdist_carries_what_the_readme_commands_need(sdist_files: set[str]) -> None:
    missing = [path for path in REQUIRED if path not in sdist_files]
    assert not missing, missing


def test_the_sdist_carries_no_local_state(sdist_files: set[str]) -> None:
    unwanted = [
        path
        for path in sdist_files
        if "__pycache__" in path
        or path.startswith((".venv", ".ci/"))
        or path.startswith("example_project/db.sqlite3")
    ]
    assert not unwanted, unwanted


def test_the_sdist_is_the_tracked_tree_less_the_ci_script(sdist_files: set[str]) -> None:
    """Coherent both ways: no tracked file is silently dropped (such as a test's helper)."""
    if shutil.which("git") is None or not (REPO / ".git").exists():
        pytest.skip("not a git checkout (an unpacked sdist has no .git)")

    def git_files(*args: str) -> set[str]:
        return set(
            subprocess.run(
                ["git", "ls-files", *args], cwd=REPO, capture_output=True, text=True, check=True
            ).stdout.split()
        )

    tracked = git_files()
    expected = {path for path in tracked if not path.startswith(LEFT_OUT_PREFIXES)}
    assert expected - sdist_files == set()
    # Anything else in it is a new file not committed yet, never one git ignores.
    new_files = git_files("--others", "--exclude-standard")
    assert sdist_files - expected - {"PKG-INFO"} <= new_files  # hatchling writes PKG-INFO
