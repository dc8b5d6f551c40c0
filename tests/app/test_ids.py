"""ids.py: the one upload-id parser, and the cycle it untangled (graph: test_import_cycles.py)."""

from __future__ import annotations

import ast
import uuid
from pathlib import Path

import pytest

from async_image_upload import AsyncImage
from async_image_upload.ids import InvalidUploadId, parse_upload_id

PACKAGE = Path(__file__).resolve().parents[2] / "async_image_upload"
UPLOAD_ID = uuid.UUID("4f1c0d2e-9b7a-4c55-8e2f-3a6b1d9c0e71")


@pytest.mark.parametrize(
    "value",
    [
        UPLOAD_ID,
        str(UPLOAD_ID),
        f"  {UPLOAD_ID}\n",
        UPLOAD_ID.hex,
        f"{{{UPLOAD_ID}}}",
        f"urn:uuid:{UPLOAD_ID}",
        str(UPLOAD_ID).upper(),
        AsyncImage(UPLOAD_ID),
    ],
)
def test_every_spelling_of_an_id_parses_to_it(value: object) -> None:
    assert parse_upload_id(value) == UPLOAD_ID


@pytest.mark.parametrize("value", [None, ""])
def test_empty_is_none(value: object) -> None:
    assert parse_upload_id(value) is None


@pytest.mark.parametrize(
    "value", ["zzz", "../etc", "4f1c0d2e", 123, 1.5, ["x"], {"id": str(UPLOAD_ID)}, b"x", "\x00"]
)
def test_anything_else_is_invalid(value: object) -> None:
    with pytest.raises(InvalidUploadId):
        parse_upload_id(value)


def test_fields_forms_and_widgets_import_each_other_at_module_level_only() -> None:
    """The cycle fields -> forms -> widgets -> fields is gone, not hidden in a function."""
    for name in ("fields.py", "forms.py", "widgets.py", "attach.py", "api/fields.py"):
        tree = ast.parse((PACKAGE / name).read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef):
                for inner in ast.walk(node):
                    if isinstance(inner, ast.ImportFrom) and inner.module in (
                        "async_image_upload.fields",
                        "async_image_upload.forms",
                        "async_image_upload.widgets",
                        "async_image_upload.ids",
                    ):
                        pytest.fail(f"{name}:{inner.lineno} imports {inner.module} in a function")
    assert "async_image_upload.fields" not in (PACKAGE / "widgets.py").read_text()
