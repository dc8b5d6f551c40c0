"""Run the cost report over the benchmark corpus and write docs/tuning.md's measured section.

Run from the repository root (under a minute on 2 cores; needs the ``tuning`` extra
for the chart and scikit-image for the corpus, like benchmarks.lambda_pipeline)::

    python -m benchmarks.tuning_report            # measure; write docs/tuning.md and its chart
    python -m benchmarks.tuning_report --no-docs  # print only

The corpus is the Lambda benchmark's (``benchmarks.lambda_pipeline.build_corpus``:
photos generated from scikit-image's bundled photographs into the git-ignored
``benchmarks/.corpus/``). Each photo is measured by the same code as
``manage.py thumbnail_cost_report``, with the app's default variants, and again
for the cost profiles (:data:`PROFILES`: without blur, with WebP output).
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time
from pathlib import Path

from async_image_upload._memory_table import WorstCase, worst_case
from async_image_upload.conf import DEFAULTS
from async_image_upload.tuning.chart import write_chart
from async_image_upload.tuning.measure import Failure, measure_file
from async_image_upload.tuning.model import MEMORY_SIZES, Measurement, S3Requests, estimate
from async_image_upload.tuning.report import WAIT_FACTORS, Report, build_report, sensitivity
from async_image_upload.tuning.text import money
from benchmarks._doc_section import replace_between
from benchmarks.lambda_pipeline import build_corpus

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "tuning.md"
CHART = ROOT / "docs" / "img" / "tuning.png"
START, END = "<!-- tuning-report:start -->", "<!-- tuning-report:end -->"
PROFILE_START, PROFILE_END = "<!-- cost-profile:start -->", "<!-- cost-profile:end -->"
#: The original project's published measurement for a 5 MB photo at 1,024 MB (x86_64).
ORIGINAL_MS, ORIGINAL_COST, ORIGINAL_MEMORY = 9006, 0.000150, 1024
FIVE_MB = "5MB-12MP"
#: The original project's table covered 512-4096 MB; ours adds both ends.
ORIGINAL_SIZES = (512, 1024, 2048, 3008, 4096)


def default_spec() -> dict:
    """The spec an upload gets with the app's default settings."""
    return {
        "variants": list(DEFAULTS["VARIANTS"]),
        "blur_radius": DEFAULTS["BLUR_RADIUS"] if DEFAULTS["BLUR"] else 0,
        "max_bytes": DEFAULTS["MAX_UPLOAD_BYTES"],
    }


def default_worst_case() -> WorstCase | None:
    """The most memory-hungry upload the app's default settings allow."""
    return worst_case(
        DEFAULTS["ALLOWED_CONTENT_TYPES"], DEFAULTS["VARIANTS"], DEFAULTS["MAX_UPLOAD_BYTES"]
    )


#: The cost profiles: (label, changes to the default spec). Blur off halves the outputs;
#: WebP output re-encodes every variant but the original as WebP (``OUTPUT_FORMAT``).
PROFILES: tuple[tuple[str, dict], ...] = (
    ("default outputs (4 variants, each plain and blurred)", {}),
    ("without blur (BLUR: False)", {"blur_radius": 0}),
    ("WebP output (OUTPUT_FORMAT=webp)", {"output_format": "webp"}),
)


def measure_corpus(
    repeats: int, changes: dict | None = None
) -> tuple[list[Measurement], list[Failure]]:
    measurements, failures = [], []
    for path in build_corpus():
        result = measure_file(path, {**default_spec(), **(changes or {})}, repeats)
        print(f"{path.name}: {result}", flush=True)
        (failures if isinstance(result, Failure) else measurements).append(result)
    return measurements, failures


SPLIT_HEADER = (
    "| CPU ms (measured) | waits ms (assumed) | Lambda: CPU | Lambda: waits "
    "| Lambda: request + INIT | Lambda total | S3 requests | total |"
)


def _split_cells(cpu_ms, wait_ms, cpu, wait, fixed, s3) -> str:
    """Per million uploads: Lambda's charge split, and S3's beside it."""
    million = 1_000_000
    return (
        f"| {cpu_ms:,.0f} | {wait_ms:,.0f} | {money(cpu * million)} | {money(wait * million)} "
        f"| {money(fixed * million)} | {money((cpu + wait + fixed) * million)} "
        f"| {money(s3 * million)} | {money((cpu + wait + fixed + s3) * million)} |"
    )


def _sensitivity_table(report: Report) -> list[str]:
    lines = [
        "| architecture, memory | arm64 CPU factor | "
        + " | ".join(f"waits x{factor:g}" for factor in WAIT_FACTORS)
        + " |",
        "|---|---:|" + "---:|" * len(WAIT_FACTORS),
    ]
    for architecture in ("arm64", "x86_64"):
        rows = sensitivity(report, architecture)
        for factor in sorted({row.arm64_cpu_factor for row in rows}):
            cells = [row for row in rows if row.arm64_cpu_factor == factor]
            label = f"{factor:g}" if architecture == "arm64" else "(reference)"
            lines.append(
                f"| {architecture}, {cells[0].memory_mb} MB | {label} | "
                + " | ".join(
                    f"{money(c.lambda_per_million)} + {money(c.s3_per_million)} = "
                    f"**{money(c.total_per_million)}**"
                    for c in cells
                )
                + " |"
            )
    return lines


def _five_mb_table(report: Report, photo: Measurement) -> list[str]:
    lines = [
        "| configuration | duration ms | of which CPU ms (measured) | waits ms (assumed) "
        "| Lambda $/photo | vs original | S3 $/photo | total $/photo | total per million |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
        f"| original project, x86_64, {ORIGINAL_MEMORY} MB (published) | {ORIGINAL_MS:,} "
        f"| | | {money(ORIGINAL_COST)} | 1x | not counted | | |",
    ]
    recommended = {row.memory_mb for a in ("x86_64", "arm64") if (row := report.recommended(a))}
    for architecture in ("x86_64", "arm64"):
        for memory_mb in sorted(set(MEMORY_SIZES) | recommended):
            result = estimate(photo, memory_mb, architecture, report.prices, report.assumptions)
            if not result.fits:
                continue
            marks = []
            chosen = report.recommended(architecture)
            if chosen is not None and chosen.memory_mb == memory_mb:
                marks.append("**recommended**")
            if memory_mb in ORIGINAL_SIZES or marks:
                label = f"ours, {architecture}, {memory_mb} MB {' '.join(marks)}".rstrip()
                lines.append(
                    f"| {label} | {result.billed_ms:,} | {result.compute_ms:,.0f} "
                    f"| {result.io_ms:,.0f} | {money(result.lambda_cost)} "
                    f"| {ORIGINAL_COST / result.lambda_cost:,.0f}x cheaper "
                    f"| {money(result.s3_cost)} | {money(result.total_cost)} "
                    f"| {money(result.total_cost * 1e6)} |"
                )
    return lines


def render(report: Report) -> str:
    five_mb = next(m for m in report.measurements if Path(m.name).stem == FIVE_MB)
    lines = [
        START,
        "## Measured on the benchmark corpus",
        "",
        f"Generated by `python -m benchmarks.tuning_report` ({time.strftime('%Y-%m-%d')}, "
        f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}), "
        f"prices of {report.prices.as_of} ({report.prices.region}), default assumptions, "
        "the app's default variants (50x50, 100x100, 400x400, original; each plain and blurred).",
        "",
        "![Mean duration and cost per million photos for each memory size](img/tuning.png)",
        "",
        "### The 5 MB photo against the original project",
        "",
        f"`{FIVE_MB}.jpg`: {five_mb.bytes:,} bytes, {five_mb.width}x{five_mb.height}, "
        f"{five_mb.cpu_s * 1000:,.0f} ms of pipeline CPU and {five_mb.s3_cpu_s * 1000:,.0f} ms "
        f"of S3-client CPU here, peak RSS {five_mb.peak_rss_mb:,.0f} MB. The original's "
        "$0.000150 is duration only (9.006 s x 1 GB x $0.0000166667), so compare it with "
        "the Lambda column; the S3 column is the requests this design pays on top "
        "(the original's figure leaves them out).",
        "",
        *_five_mb_table(report, five_mb),
        "",
        "### The whole corpus",
        "",
        "| photo | bytes | pixels | CPU ms | peak RSS MB |",
        "|---|---:|---:|---:|---:|",
    ]
    for m in report.measurements:
        lines.append(
            f"| {Path(m.name).stem} | {m.bytes:,} | {m.width * m.height / 1e6:.1f} MP "
            f"| {m.cpu_s * 1000:,.0f} | {m.peak_rss_mb:,.0f} |"
        )
    requests = S3Requests.per_upload(five_mb.outputs)
    lines += [
        "",
        "Mean per upload over the corpus, in USD per million uploads. *CPU ms* is the "
        "measured pipeline and S3-client CPU time scaled to each size's CPU share; *waits ms* "
        "is the assumed S3 and callback time (not measured: see the assumptions above). "
        "Lambda's charge is split into the duration spent computing, the duration spent "
        "waiting, and the request charge plus amortised INIT; the S3 request charge "
        f"({requests.put_class} PUT-class and {requests.get_class} GET-class requests per "
        "upload, counted from the handler's code) is billed by S3 and shown beside it.",
        "",
    ]
    for architecture in ("arm64", "x86_64"):
        lines += [
            f"| {architecture} MB | billed ms {SPLIT_HEADER} |",
            "|---:|---:" + "|---:" * 8 + "|---|",
        ]
        chosen = report.recommended(architecture)
        for row in report.rows_for(architecture):
            note = "out of memory" if not row.fits else ""
            if row.fits and not row.holds_allowed_inputs:
                note = "refuses allowed inputs"
            if chosen is not None and row.memory_mb == chosen.memory_mb:
                note = "**recommended**"
            cells = _split_cells(
                row.compute_ms, row.wait_ms, row.cpu_cost, row.wait_cost, row.fixed_cost,
                row.s3_cost,
            )  # fmt: skip
            lines.append(f"| {row.memory_mb} | {row.mean_ms:,.0f} {cells} {note} |")
        lines.append("")
    worst = report.settings_worst_case
    lines.append(
        f"Runs out of memory below {report.required_memory_mb:,.0f} MB on this corpus "
        f"(largest peak RSS plus {report.assumptions.runtime_overhead_mb:g} MB for the runtime)."
    )
    if worst is not None:
        lines.append(
            f"But the default settings allow a {worst.pixels / 1e6:g} MP {worst.content_type} "
            f"({worst.kind}), which needs {worst.needed_mb:,} MB by the Lambda's own memory "
            "estimate (`lambda_function/memory_budget.py`); smaller sizes would refuse it with "
            f"`too_much_memory`, so recommendations start at {report.safe_memory_mb:,.0f} MB. "
            "Narrow `ALLOWED_CONTENT_TYPES` (or the Lambda's `MAX_PIXELS`) to go lower."
        )
    lines.append("")
    for architecture in ("arm64", "x86_64"):
        chosen = report.recommended(architecture)
        if chosen is None:
            continue
        photo = estimate(five_mb, chosen.memory_mb, architecture, report.prices, report.assumptions)
        lines.append(
            f"**{architecture}: {chosen.memory_mb} MB** ({report.strategy}): "
            f"{money(photo.total_cost * 1e6)} per million 5 MB photos "
            f"({money(photo.lambda_cost * 1e6)} Lambda, of which "
            f"{money(photo.cpu_cost * 1e6)} measured CPU and {money(photo.wait_cost * 1e6)} "
            f"assumed waits; {money(photo.s3_cost * 1e6)} S3 requests), "
            f"{photo.billed_ms:,} ms each."
        )
        lines.append("")
    lines += [
        "### Sensitivity",
        "",
        "The corpus mean at the recommended size, Lambda + S3 = **total** per million "
        "uploads, with every assumed wait (S3 latencies and transfer, callback) halved and "
        "doubled, and arm64's CPU time per x86_64 CPU second from 1.0 to 1.3:",
        "",
        *_sensitivity_table(report),
        "",
    ]
    lines.append(END)
    return "\n".join(lines) + "\n"


def render_profiles(reports: list[tuple[str, Report]]) -> str:
    """Per million uploads for each profile, at the default profile's recommended sizes."""
    default = reports[0][1]
    lines = [
        PROFILE_START,
        "## Cost profiles",
        "",
        f"Generated by `python -m benchmarks.tuning_report` ({time.strftime('%Y-%m-%d')}, "
        f"{platform.machine()}, {os.cpu_count()} cores). Method: every photo of the benchmark "
        "corpus (below) measured in a fresh process per profile, as `thumbnail_cost_report` "
        "does; the corpus mean priced with the default assumptions and prices, at the size "
        "recommended for the default profile on each architecture (the same size for every "
        "profile, so only the outputs differ). USD per million uploads; *CPU ms* measured, "
        "*waits ms* assumed.",
        "",
        f"| profile | outputs | output KB | S3 requests PUT / GET | architecture, MB "
        f"{SPLIT_HEADER}",
        "|---|---:|---:|---:|---" + "|---:" * 8 + "|",
    ]
    for architecture in ("arm64", "x86_64"):
        chosen = default.recommended(architecture)
        if chosen is None:
            continue
        for label, report in reports:
            estimates = [
                estimate(m, chosen.memory_mb, architecture, report.prices, report.assumptions)
                for m in report.measurements
            ]
            outputs = max(m.outputs for m in report.measurements)
            requests = S3Requests.per_upload(outputs)

            cells = _split_cells(
                *(
                    statistics.fmean(getattr(e, name) for e in estimates)
                    for name in ("compute_ms", "io_ms", "cpu_cost", "wait_cost", "fixed_cost")
                ),
                statistics.fmean(e.s3_cost for e in estimates),
            )
            output_kb = statistics.fmean(m.output_bytes for m in report.measurements) / 1000
            lines.append(
                f"| {label} | {outputs} | {output_kb:,.0f} "
                f"| {requests.put_class} / {requests.get_class} "
                f"| {architecture}, {chosen.memory_mb} {cells}"
            )
    lines += [
        "",
        "The S3 request charge is the largest line whatever the profile, so fewer outputs "
        "(no blur: 4 fewer PUTs) save more than any memory or format choice. WebP output "
        "changes the CPU (encoding) and the output bytes (*output KB*, all outputs of one "
        "upload, most of them the original, which is passed through in its own format; bytes "
        "cost transfer time here, and storage and delivery, which are not modelled), not the "
        "request count.",
        PROFILE_END,
    ]
    return "\n".join(lines) + "\n"


def write_doc(section: str, profiles: str | None = None) -> None:
    text = replace_between(DOC.read_text(), START, END, section)
    if profiles is not None:
        text = replace_between(text, PROFILE_START, PROFILE_END, profiles)
    DOC.write_text(text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--no-docs", action="store_true")
    parser.add_argument("--no-profiles", action="store_true", help="the default outputs only")
    args = parser.parse_args()
    worst = default_worst_case()
    reports = []
    for label, changes in PROFILES[: 1 if args.no_profiles else None]:
        measurements, failures = measure_corpus(args.repeats, changes)
        reports.append((label, build_report(measurements, failures, settings_worst_case=worst)))
    report = reports[0][1]
    section = render(report)
    profiles = render_profiles(reports) if len(reports) > 1 else None
    print(section)
    if profiles:
        print(profiles)
    if not args.no_docs:
        CHART.parent.mkdir(exist_ok=True)
        write_chart(report, CHART)
        write_doc(section, profiles)


if __name__ == "__main__":
    main()
