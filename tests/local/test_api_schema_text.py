"""The OpenAPI texts are Markdown (what Swagger UI and ReDoc render), and the example's is clean.

Docstrings become operation and component descriptions; reStructuredText in
them (double backticks, ``:func:`` roles) showed literally on the API docs page.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from django.core.management import call_command

from tests.local.test_local_stack import EXAMPLE

#: Double backticks, or a Sphinx role such as :func:`x` / :class:`~a.B`.
RST = re.compile(r"``|:[a-z]+:`")


def texts(node: Any, path: str = "") -> Iterator[tuple[str, str]]:
    """Every description, summary and title in the schema, with where it is."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key in {"description", "summary", "title"} and isinstance(value, str):
                yield f"{path}/{key}", value
            else:
                yield from texts(value, f"{path}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from texts(value, f"{path}/{index}")


def assert_markdown(schema: dict[str, Any]) -> None:
    found = list(texts(schema))
    assert len(found) > 10  # the walk does reach the descriptions
    rst = [(where, text) for where, text in found if RST.search(text)]
    assert not rst, rst


@pytest.mark.django_db
def test_the_apps_schema_texts_are_markdown(tmp_path: Path) -> None:
    out = tmp_path / "schema.yaml"
    call_command("spectacular", "--file", str(out))
    assert_markdown(yaml.safe_load(out.read_text()))


def test_the_example_schema_validates_without_warnings(tmp_path: Path) -> None:
    """`manage.py spectacular --validate --fail-on-warn` as a user of the example runs it."""
    out = tmp_path / "schema.yaml"
    env = {**os.environ, "EXAMPLE_DB": str(tmp_path / "db.sqlite3")}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    done = subprocess.run(
        [sys.executable, "manage.py", "spectacular", "--validate", "--fail-on-warn", "--file", out],
        cwd=EXAMPLE,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Warning" not in done.stderr.replace("WARNINGS:", ""), done.stderr
    schema = yaml.safe_load(out.read_text())
    photo_id = schema["paths"]["/api/photos/{id}/"]["get"]["parameters"][0]
    assert photo_id["name"] == "id" and photo_id["schema"]["type"] == "integer"
    assert_markdown(schema)
