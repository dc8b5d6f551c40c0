"""A bar chart of the report, like the original project's: duration and cost per memory size.

matplotlib is optional (the ``tuning`` extra); :func:`write_chart` raises
:class:`ChartUnavailable` with the install command when it is missing.
"""

from __future__ import annotations

from pathlib import Path

from async_image_upload.tuning.report import Report

COLOURS = {"arm64": ("#2b6cb0", "#90cdf4"), "x86_64": ("#c05621", "#fbd38d")}


class ChartUnavailable(RuntimeError):
    """matplotlib is not installed."""


def write_chart(report: Report, path: Path) -> None:
    """Two panels sharing the memory axis: mean duration, and cost per million photos."""
    try:
        import matplotlib

        matplotlib.use("Agg")  # files only; never open a window
        import matplotlib.pyplot as plt
        from matplotlib.patches import Patch
    except ImportError:
        raise ChartUnavailable(
            "--chart needs matplotlib: pip install 'django-async-images[tuning]'"
        ) from None

    architectures = sorted({row.architecture for row in report.rows})
    sizes = sorted({row.memory_mb for row in report.rows})
    width = 0.8 / max(1, len(architectures))
    figure, (top, bottom) = plt.subplots(2, 1, figsize=(9, 6.5), sharex=True)
    for index, architecture in enumerate(architectures):
        rows = {row.memory_mb: row for row in report.rows_for(architecture)}
        xs = [i + (index - (len(architectures) - 1) / 2) * width for i in range(len(sizes))]
        dark, light = COLOURS.get(architecture, ("#4a5568", "#cbd5e0"))
        durations = [rows[s].mean_ms for s in sizes]
        hatches = ["" if rows[s].fits else "xx" for s in sizes]
        bars = top.bar(xs, durations, width, color=dark, label=architecture)
        lambda_costs = [rows[s].lambda_cost * 1e6 for s in sizes]
        s3_costs = [rows[s].s3_cost * 1e6 for s in sizes]
        bottom.bar(xs, s3_costs, width, color=light, label=f"S3 requests ({architecture})")
        bottom.bar(
            xs, lambda_costs, width, bottom=s3_costs, color=dark, label=f"Lambda ({architecture})"
        )
        for bar, hatch in zip(bars, hatches, strict=True):
            bar.set_hatch(hatch)
        chosen = report.recommended(architecture)
        if chosen is not None:
            bars[sizes.index(chosen.memory_mb)].set(edgecolor="black", linewidth=2)
    top.set_ylabel("mean duration per photo (ms)")
    top.set_title(
        f"{len(report.measurements)} photos; outlined: recommended ({report.strategy}); "
        f"hatched: runs out of memory (< {report.required_memory_mb:,.0f} MB)",
        fontsize=10,
    )
    top.legend(
        handles=[Patch(color=COLOURS.get(a, ("#4a5568",))[0], label=a) for a in architectures],
        fontsize=8,
    )
    bottom.set_ylabel("USD per million photos")
    bottom.set_xlabel("Lambda memory (MB)")
    bottom.set_xticks(range(len(sizes)), [str(s) for s in sizes])
    bottom.legend(fontsize=7, ncol=2)
    for axis in (top, bottom):
        axis.grid(axis="y", alpha=0.3)
    figure.tight_layout()
    figure.savefig(path, dpi=80)
    plt.close(figure)
