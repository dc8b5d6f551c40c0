"""Benchmarks rewrite only their own marked block of a shared docs page."""

from __future__ import annotations

from pathlib import Path

from benchmarks._doc_section import replace_between, write_section

START, END = "<!-- x:start -->", "<!-- x:end -->"


def test_a_rerun_replaces_only_its_own_block() -> None:
    page = f"# P\n\nprose\n\n{START}\nold\n{END}\n\n<!-- y:start -->\nkeep\n<!-- y:end -->\n"
    new = replace_between(page, START, END, f"{START}\nnew\n{END}\n")
    assert new == f"# P\n\nprose\n\n{START}\nnew\n{END}\n\n<!-- y:start -->\nkeep\n<!-- y:end -->\n"
    assert replace_between(new, START, END, f"{START}\nnew\n{END}\n") == new  # idempotent


def test_a_first_run_appends_its_block(tmp_path: Path) -> None:
    doc = tmp_path / "performance.md"
    doc.write_text("# Performance\n\nprose\n")
    write_section(doc, START, END, f"{START}\nrows\n{END}")
    assert doc.read_text() == f"# Performance\n\nprose\n\n{START}\nrows\n{END}\n"
