"""The file that carries the report's recommendation to ``deploy_thumbnail_stack``.

A file, not a setting, because the recommendation is a measurement of the user's
own photos that should be re-run when the photos or the pipeline change, and
committed next to ``manage.py`` so a deploy from CI uses the same number.
Stdlib only: the deploy command reads it without matplotlib or Pillow.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

#: Where the report writes and the deploy command reads, relative to the working directory.
DEFAULT_FILE = Path("thumbnail_tuning.json")
RECOMMENDED = "recommended"


class RecommendationError(ValueError):
    """No usable recommendation; the message says how to make one."""


def write_recommendation(report_data: dict[str, Any], path: Path = DEFAULT_FILE) -> None:
    """Write the choices and enough context to see where they came from."""
    keys = (
        "version", "generated", "strategy", "recommended", "cheapest", "fastest",
        "required_memory_mb", "safe_memory_mb", "prices", "assumptions",
    )  # fmt: skip
    summary = {key: report_data[key] for key in keys}
    summary["photos"] = len(report_data["measurements"])
    path.write_text(json.dumps(summary, indent=2, sort_keys=True) + "\n")


def read_recommended_memory(architecture: str, path: Path | None = None) -> int:
    """The recommended memory in MB for ``architecture`` from a report or recommendation file."""
    path = path or DEFAULT_FILE
    hint = (
        "run `manage.py thumbnail_cost_report PHOTOS... --write-recommendation` first "
        "(or pass --memory MB)"
    )
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        raise RecommendationError(f"no tuning recommendation at {path}: {hint}") from None
    except (OSError, ValueError) as exc:
        raise RecommendationError(f"cannot read {path}: {exc}") from None
    memory = (data.get("recommended") or {}).get(architecture) if isinstance(data, dict) else None
    if not isinstance(memory, int) or isinstance(memory, bool):
        raise RecommendationError(f"{path} recommends no memory size for {architecture}: {hint}")
    return memory
