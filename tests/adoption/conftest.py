"""The adoption tier runs only when selected (``-m adoption``) and reports each step live.

It builds the package, installs it into a fresh venv and drives a new project
for a few minutes, so ``make test`` and the other tiers deselect it; CI runs it
as its own tier. Progress goes straight to the terminal (not pytest's capture),
so a CI log shows which docs step was running when something broke.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if "adoption" in (config.option.markexpr or ""):
        return
    skipped = [item for item in items if item.get_closest_marker("adoption")]
    if skipped:
        config.hook.pytest_deselected(items=skipped)
        items[:] = [item for item in items if not item.get_closest_marker("adoption")]


@pytest.fixture(scope="session")
def step(pytestconfig: pytest.Config) -> Callable[[str], None]:
    """``step("…")`` prints ``[adoption +12.3s] …`` live, and into the captured output."""
    reporter = pytestconfig.pluginmanager.get_plugin("terminalreporter")
    capture = pytestconfig.pluginmanager.get_plugin("capturemanager")
    started = time.monotonic()

    def report(message: str) -> None:
        line = f"[adoption +{time.monotonic() - started:6.1f}s] {message}"
        print(line)  # into the captured output a failure report shows
        if reporter is not None and capture is not None:
            with capture.global_and_fixture_disabled():
                reporter.write_line(line)

    return report
