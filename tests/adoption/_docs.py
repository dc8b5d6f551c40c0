"""Read code blocks out of docs/*.md and apply them to files, as a reader would.

The adoption test takes every setting, URL and module it writes into a fresh
project from the docs' own fenced blocks, so a changed snippet is the snippet
tested. A block users copy into a file starts with a comment naming that file
(``# settings.py``, ``# myapp/models.py``): readable for people, and the key
these helpers find it by. Nothing here knows the package's internals.
"""

from __future__ import annotations

import ast
import re
import textwrap
from dataclasses import dataclass
from pathlib import Path

DOCS = Path(__file__).resolve().parents[2] / "docs"
README = DOCS.parent / "README.md"

_FENCE = re.compile(
    r"^(?P<indent>[ \t]*)```(?P<lang>[\w-]*)[^\n]*\n(?P<body>.*?)^(?P=indent)```", re.M | re.S
)


@dataclass(frozen=True)
class Block:
    doc: str
    lang: str
    code: str

    @property
    def first_line(self) -> str:
        return self.code.split("\n", 1)[0].strip()


def blocks(doc: str) -> list[Block]:
    """Every fenced block of ``docs/<doc>``, dedented (blocks inside list items are indented)."""
    text = (DOCS / doc).read_text()
    return [
        Block(doc, match["lang"], textwrap.dedent(match["body"])) for match in _FENCE.finditer(text)
    ]


def file_block(doc: str, filename: str, lang: str = "python") -> Block:
    """The block of ``doc`` whose first line is ``# <filename>``; a clear error if none."""
    found = [b for b in blocks(doc) if b.lang == lang and b.first_line == f"# {filename}"]
    if len(found) != 1:
        raise LookupError(
            f"docs/{doc}: expected one ```{lang} block starting with '# {filename}', "
            f"found {len(found)}. The adoption test copies that block into a fresh project."
        )
    return found[0]


def block_containing(doc: str, needle: str, lang: str = "python") -> Block:
    found = [b for b in blocks(doc) if b.lang == lang and needle in b.code]
    if len(found) != 1:
        raise LookupError(
            f"docs/{doc}: expected one ```{lang} block containing {needle!r}, found {len(found)}."
        )
    return found[0]


def install_lines(text: str, distribution_hint: str = "django-async") -> list[str]:
    """Every ``pip install …`` of the package in a text, e.g. ``django-async-images[local]``."""
    pattern = re.compile(
        r"pip install\s+[\"']?(" + re.escape(distribution_hint) + r"[\w.-]*(?:\[[\w,\s-]+\])?)"
    )
    return pattern.findall(text)


def split_requirement(requirement: str) -> tuple[str, set[str]]:
    name, _, extras = requirement.partition("[")
    return name, {extra.strip() for extra in extras.rstrip("]").split(",") if extra.strip()}


def normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _is_ellipsis(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant) and node.value is Ellipsis


def apply_snippet(target: str, block: Block) -> str:
    """``target`` (a module's source) with a docs snippet applied the way its reader would.

    ``NAME = [..., a, b]`` means "add a and b to your NAME": the elements the
    target's own literal lacks are appended (``NAME += [...]``). Every other
    statement (imports included) is appended as written, after a comment naming
    the doc. The result must still parse.
    """
    tree = ast.parse(block.code)
    existing = ast.parse(target)
    literals: dict[str, list[str]] = {}
    for node in existing.body:  # NAME = [...] and NAME += [...] (an earlier snippet's)
        if isinstance(node, ast.Assign | ast.AugAssign) and isinstance(
            node.value, ast.List | ast.Tuple
        ):
            names = node.targets if isinstance(node, ast.Assign) else [node.target]
            for name in names:
                if isinstance(name, ast.Name):
                    elements = [ast.dump(elt) for elt in node.value.elts]
                    if isinstance(node, ast.AugAssign):
                        literals.setdefault(name.id, []).extend(elements)
                    else:
                        literals[name.id] = elements
    present_imports = {
        ast.unparse(node) for node in existing.body if isinstance(node, ast.Import | ast.ImportFrom)
    }
    added: list[str] = []
    for node in tree.body:
        if isinstance(node, ast.Import | ast.ImportFrom):
            if ast.unparse(node) not in present_imports:
                added.append(ast.unparse(node))
            continue
        if (
            isinstance(node, ast.Assign)
            and len(node.targets) == 1
            and isinstance(node.targets[0], ast.Name)
            and isinstance(node.value, ast.List | ast.Tuple)
            and any(_is_ellipsis(elt) for elt in node.value.elts)
        ):
            name = node.targets[0].id
            have = literals.setdefault(name, [])
            new = [
                elt
                for elt in node.value.elts
                if not _is_ellipsis(elt) and ast.dump(elt) not in have
            ]
            have.extend(ast.dump(elt) for elt in new)
            if new:
                added.append(
                    f"{name} += [\n" + "".join(f"    {ast.unparse(elt)},\n" for elt in new) + "]"
                )
            continue
        added.append(ast.get_source_segment(block.code, node) or ast.unparse(node))
    result = (
        target.rstrip("\n")
        + f"\n\n# ---- from docs/{block.doc} ({block.first_line.lstrip('# ')}) ----\n"
    )
    result += "\n".join(added) + "\n"
    ast.parse(result)
    return result
