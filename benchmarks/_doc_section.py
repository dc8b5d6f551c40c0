"""Write a benchmark's generated section into a docs page, between its markers.

Every benchmark owns one ``<!-- name:start -->`` ... ``<!-- name:end -->`` block of a
page (several share docs/performance.md), so a re-run replaces only its own block
and leaves the prose and the other benchmarks' tables alone.
"""

from __future__ import annotations

from pathlib import Path


def replace_between(text: str, start: str, end: str, section: str) -> str:
    """``text`` with the block from ``start`` to ``end`` replaced by ``section``.

    ``section`` carries its own markers. Without a block yet, it is appended.
    """
    if start not in text or end not in text:
        return text.rstrip("\n") + "\n\n" + section.rstrip("\n") + "\n"
    before, rest = text.split(start, 1)
    return before + section.rstrip("\n") + rest.split(end, 1)[1]


def write_section(doc: Path, start: str, end: str, section: str) -> None:
    """Replace (or append) one benchmark's block in ``doc``."""
    text = doc.read_text() if doc.exists() else "# Performance\n"
    doc.write_text(replace_between(text, start, end, section))
