"""ids.py: the one upload-id parser, and the import graph it untangled."""

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


def _module_level_imports(path: Path) -> set[str]:
    """Package modules ``path`` imports at module level (not in functions or TYPE_CHECKING)."""
    tree = ast.parse(path.read_text())
    found: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.Try):  # optional imports
            for inner in node.body:
                if isinstance(inner, ast.ImportFrom) and inner.module:
                    found.add(inner.module)
    return {name for name in found if name.startswith("async_image_upload")}


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def test_module_level_imports_have_no_cycle() -> None:
    modules = {_module_name(p): p for p in PACKAGE.rglob("*.py") if "_lambda_source" not in p.parts}
    graph = {name: _module_level_imports(path) & modules.keys() for name, path in modules.items()}
    for name in graph:  # a package's own __init__ is not an edge to itself
        graph[name].discard(name)
    seen: dict[str, int] = {}

    def visit(name: str, trail: list[str]) -> None:
        if seen.get(name) == 2:
            return
        if seen.get(name) == 1:
            cycle = [*trail[trail.index(name) :], name]
            pytest.fail("import cycle: " + " -> ".join(cycle))
        seen[name] = 1
        for target in sorted(graph[name]):
            visit(target, [*trail, name])
        seen[name] = 2

    for name in sorted(graph):
        visit(name, [])


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
    assert "async_image_upload.forms" in _module_level_imports(PACKAGE / "fields.py")
