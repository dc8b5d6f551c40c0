"""The import graph of the app and of the Lambda: acyclic, complete, and kept apart.

The graph is read from the source with ``ast``: every ``import`` and ``from …
import`` statement, at module level or inside a function (an import inside a
function is how a cycle usually hides). Imports under ``if TYPE_CHECKING:``
never run and are left out, so a module may name another's types without
depending on it.

Then the graph is checked against Python itself: in a fresh interpreter each
module is imported in topological order, and importing it may load only what
the graph says it needs: an import the graph cannot see (``import_module`` at
module level) fails the check when it loads a module not loaded before.

Parts and what they may import are described in docs/architecture.md.
"""

from __future__ import annotations

import ast
import graphlib
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
APP = "async_image_upload"
LAMBDA = "lambda_function"

#: Top-level packages each part must never import. The wheel ships only the
#: app (the Lambda's source travels inside it as data, loaded by path by
#: ``local/lambda_loader.py``); the Lambda's zip has no Django in it.
FORBIDDEN_IMPORTS = {
    APP: {LAMBDA},
    LAMBDA: {"django", "rest_framework", APP},
}


@dataclass(frozen=True)
class Import:
    importer: str
    #: The dotted name as written, made absolute (``from . import x`` in ``pkg``: ``pkg.x``).
    name: str
    #: False for an import inside a function: it runs when the function is called.
    at_import_time: bool
    line: int


def module_files(package: str) -> dict[str, Path]:
    """Dotted module name -> source file, for every module of ``package``."""
    modules = {}
    for path in sorted((ROOT / package).rglob("*.py")):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        modules[".".join(parts)] = path
    return modules


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


class _ImportCollector(ast.NodeVisitor):
    def __init__(self, module: str, is_package: bool) -> None:
        self.module = module
        self.package = module if is_package else module.rpartition(".")[0]
        self.function_depth = 0
        self.imports: list[Import] = []

    def _add(self, name: str, node: ast.stmt) -> None:
        self.imports.append(Import(self.module, name, self.function_depth == 0, node.lineno))

    def _function(self, node: ast.AST) -> None:
        self.function_depth += 1
        self.generic_visit(node)
        self.function_depth -= 1

    visit_FunctionDef = visit_AsyncFunctionDef = visit_Lambda = _function

    def visit_If(self, node: ast.If) -> None:
        if _is_type_checking(node.test):
            for statement in node.orelse:
                self.visit(statement)
        else:
            self.generic_visit(node)

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self._add(alias.name, node)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        base = node.module or ""
        if node.level:
            parts = self.package.split(".")
            anchor = ".".join(parts[: len(parts) - (node.level - 1)])
            base = f"{anchor}.{base}" if base else anchor
        for alias in node.names:
            # ``from pkg import x`` imports pkg, and pkg.x too when x is a module.
            self._add(base if alias.name == "*" else f"{base}.{alias.name}", node)


def collect_imports(package: str) -> list[Import]:
    imports = []
    for module, path in module_files(package).items():
        collector = _ImportCollector(module, path.name == "__init__.py")
        collector.visit(ast.parse(path.read_text(), filename=str(path)))
        imports += collector.imports
    return imports


def _internal(name: str, modules: set[str]) -> str | None:
    """The module ``name`` lands in: itself, or the longest prefix that is a module."""
    while name and name not in modules:
        name = name.rpartition(".")[0]
    return name or None


def import_graph(package: str, *, import_time_only: bool = False) -> dict[str, set[str]]:
    """Each module of ``package`` -> the modules of ``package`` it imports."""
    modules = set(module_files(package))
    graph: dict[str, set[str]] = {module: set() for module in sorted(modules)}
    for found in collect_imports(package):
        if import_time_only and not found.at_import_time:
            continue
        target = _internal(found.name, modules)
        if target and target != found.importer:
            graph[found.importer].add(target)
    return graph


def strongly_connected(graph: dict[str, set[str]]) -> list[set[str]]:
    """Tarjan's strongly connected components that are cycles (more than one module)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[set[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for successor in sorted(graph[node]):
            if successor not in index:
                visit(successor)
                low[node] = min(low[node], low[successor])
            elif successor in on_stack:
                low[node] = min(low[node], index[successor])
        if low[node] == index[node]:
            component = set()
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.add(member)
                if member == node:
                    break
            if len(component) > 1:
                components.append(component)

    for node in graph:
        if node not in index:
            visit(node)
    return components


def _ancestors(module: str) -> set[str]:
    parts = module.split(".")
    return {".".join(parts[:end]) for end in range(1, len(parts))}


def may_load(graph: dict[str, set[str]], start: set[str]) -> set[str]:
    """What importing ``start`` may load: its graph closure, with every parent package."""
    seen: set[str] = set()
    todo = list(start)
    while todo:
        module = todo.pop()
        if module in seen:
            continue
        seen.add(module)
        todo += [*graph.get(module, ()), *_ancestors(module)]
    return seen


def import_order(package: str) -> list[str]:
    """Dependencies first (the graph is acyclic: another test proves it)."""
    return list(graphlib.TopologicalSorter(import_graph(package)).static_order())


# Runs in a fresh interpreter: imports the modules in the order given and reports,
# per module, what else of the package it loaded beyond what the graph allows.
_IMPORT_IN_ORDER = r"""
import importlib, json, sys, traceback

plan = json.load(sys.stdin)
sys.path.insert(0, plan["root"])
prefix = plan["package"]


def loaded():
    return {name for name in sys.modules if name == prefix or name.startswith(prefix + ".")}


result = {"setup_unexpected": [], "failed": {}, "unexpected": {}}
if plan["django"]:
    import django
    from django.conf import settings

    settings.configure(
        INSTALLED_APPS=[
            "django.contrib.admin",
            "django.contrib.auth",
            "django.contrib.contenttypes",
            "rest_framework",
            "async_image_upload",
        ],
        DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}},
        SECRET_KEY="import-graph-test",
        USE_TZ=True,
    )
    django.setup()
    result["setup_unexpected"] = sorted(loaded() - set(plan["setup_may_load"]))
for module, allowed in plan["order"]:
    before = loaded()
    try:
        importlib.import_module(module)
    except BaseException:
        result["failed"][module] = traceback.format_exc(limit=-3)
        continue
    extra = loaded() - before - set(allowed)
    if extra:
        result["unexpected"][module] = sorted(extra)
result["file"] = sys.modules[prefix].__file__
result["forbidden"] = sorted(
    name for name in sys.modules if name.split(".")[0] in plan["forbidden"]
)
print(json.dumps(result))
"""


def import_in_fresh_interpreter(package: str, *, django: bool) -> dict:
    graph = import_graph(package)
    plan = {
        "root": str(ROOT),
        "package": package,
        "django": django,
        # django.setup() imports the app's config (whose ready() imports more), its
        # models, and, through the admin's autodiscovery, its admin module.
        "setup_may_load": sorted(
            may_load(graph, {f"{APP}.apps", f"{APP}.models", f"{APP}.admin"}) if django else []
        ),
        "order": [[module, sorted(may_load(graph, {module}))] for module in import_order(package)],
        "forbidden": sorted(FORBIDDEN_IMPORTS[package]),
    }
    env = {key: value for key, value in os.environ.items() if key != "DJANGO_SETTINGS_MODULE"}
    completed = subprocess.run(
        [sys.executable, "-c", _IMPORT_IN_ORDER],
        input=json.dumps(plan),
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=300,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    result = json.loads(completed.stdout.strip().splitlines()[-1])
    assert Path(result["file"]).resolve().is_relative_to(ROOT), result["file"]
    return result


def test_the_graph_sees_imports_at_module_level_in_functions_and_relative() -> None:
    graph = import_graph(APP)
    assert set(graph) == set(module_files(APP))
    assert "async_image_upload.conf" in graph["async_image_upload.s3"]  # module level
    assert "async_image_upload.checks" in graph["async_image_upload.apps"]  # in ready()
    # Only for typing: not an edge.
    assert "async_image_upload.models" not in graph["async_image_upload.values"]
    lambda_graph = import_graph(LAMBDA)
    assert "lambda_function.callback" in lambda_graph["lambda_function.handler"]  # from . import


def test_no_import_cycles() -> None:
    for package in (APP, LAMBDA):
        cycles = [sorted(component) for component in strongly_connected(import_graph(package))]
        assert not cycles, (
            f"import cycles in {package}: {sorted(cycles)}. Move what both modules need "
            "into a lower module, or make one of them not import the other."
        )


def test_the_app_never_imports_the_lambda_package_and_the_lambda_never_imports_django() -> None:
    for package, forbidden in FORBIDDEN_IMPORTS.items():
        offending = [
            f"{found.importer}:{found.line} imports {found.name}"
            for found in collect_imports(package)
            if found.name.split(".")[0] in forbidden
        ]
        assert offending == []


def test_every_app_module_imports_in_a_fresh_interpreter_in_topological_order() -> None:
    result = import_in_fresh_interpreter(APP, django=True)
    assert result["failed"] == {}
    assert result["setup_unexpected"] == [], "django.setup() loaded modules the graph misses"
    assert result["unexpected"] == {}, "imports loaded modules the graph does not show"
    assert result["forbidden"] == []


def test_every_lambda_module_imports_in_a_fresh_interpreter_without_django() -> None:
    result = import_in_fresh_interpreter(LAMBDA, django=False)
    assert result["failed"] == {}
    assert result["unexpected"] == {}, "imports loaded modules the graph does not show"
    assert result["forbidden"] == [], "the Lambda loaded Django or the app"
