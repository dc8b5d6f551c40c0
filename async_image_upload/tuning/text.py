"""The report as plain text for a terminal: one table per architecture, then the choices."""

from __future__ import annotations

from async_image_upload.tuning.report import Report, Row


def money(value: float) -> str:
    """Dollars with enough significant digits for sub-cent per-photo prices."""
    return f"${value:.3g}" if value < 0.01 else f"${value:,.2f}"


def _notes(report: Report, row: Row) -> str:
    notes = []
    if not row.fits:
        notes.append("OUT OF MEMORY")
    elif row.memory_mb < report.safe_memory_mb:
        notes.append("tight")
    for label, choice in (
        ("cheapest", report.cheapest(row.architecture)),
        ("fastest", report.fastest(row.architecture)),
        ("RECOMMENDED", report.recommended(row.architecture)),
    ):
        if choice is not None and choice.memory_mb == row.memory_mb:
            notes.append(label)
    if row.s3_exceeds_lambda:
        notes.append("S3 > Lambda")
    return ", ".join(notes)


def render_table(report: Report, architecture: str) -> str:
    header = (
        f"{'memory MB':>9}  {'mean ms':>8}  {'max ms':>8}  {'Lambda/photo':>12}  "
        f"{'S3/photo':>10}  {'total/photo':>11}  {'per million':>11}  notes"
    )
    lines = [
        f"{architecture} ({money(report.prices.gb_second(architecture))} per GB-second)",
        header,
    ]
    for row in report.rows_for(architecture):
        lines.append(
            f"{row.memory_mb:>9}  {row.mean_ms:>8,.0f}  {row.max_ms:>8,}  "
            f"{money(row.lambda_cost):>12}  {money(row.s3_cost):>10}  "
            f"{money(row.total_cost):>11}  {money(row.total_cost * 1_000_000):>11}  "
            f"{_notes(report, row)}"
        )
    return "\n".join(lines)


def render(report: Report) -> str:
    """Measured photos, failures, a table per architecture and the recommendation."""
    prices, assumptions = report.prices, report.assumptions
    lines = [
        f"Photos measured: {len(report.measurements)}; bad files: {len(report.failures)}.",
    ]
    for m in report.measurements:
        lines.append(
            f"  {m.name}: {m.bytes:,} bytes, {m.width}x{m.height}, "
            f"{m.cpu_s * 1000:,.0f} ms CPU, peak {m.peak_rss_mb:,.0f} MB, {m.outputs} outputs"
        )
    for failure in report.failures:
        lines.append(f"  BAD {failure.name}: {failure.code}: {failure.message}")
    lines += [
        "",
        f"Prices: {prices.region} as of {prices.as_of}; Lambda "
        f"{money(prices.lambda_request * 1e6)} per million requests; "
        f"S3 {money(prices.s3_put * 1000)} per 1,000 PUT, "
        f"{money(prices.s3_get * 1000)} per 1,000 GET.",
        f"Assumed: Lambda x86 CPU = {assumptions.cpu_scale:g} x this machine, arm64 = "
        f"{assumptions.arm64_cpu_factor:g} x x86 CPU time; S3 {assumptions.s3_get_latency_ms:g} ms "
        f"per GET, {assumptions.s3_put_latency_ms:g} ms per PUT, "
        f"{assumptions.s3_throughput_mb_s:g} MB/s; callback {assumptions.callback_ms:g} ms; "
        f"{assumptions.cold_start_fraction:.1%} cold starts (INIT billed). See docs/tuning.md.",
    ]
    architectures = sorted({row.architecture for row in report.rows})
    for architecture in architectures:
        lines += ["", render_table(report, architecture)]
    lines += [
        "",
        f"Runs out of memory below {report.required_memory_mb:,.0f} MB (largest peak RSS plus "
        f"{assumptions.runtime_overhead_mb:g} MB for the runtime); sizes below "
        f"{report.safe_memory_mb:,.0f} MB are not recommended.",
    ]
    for architecture in architectures:
        cheapest = report.cheapest(architecture)
        fastest = report.fastest(architecture)
        chosen = report.recommended(architecture)
        if chosen is None or cheapest is None or fastest is None:
            lines.append(f"{architecture}: no measured memory size is large enough.")
            continue
        lines.append(
            f"{architecture}: cheapest {cheapest.memory_mb} MB "
            f"({money(cheapest.total_cost * 1e6)} per million), fastest {fastest.memory_mb} MB "
            f"({fastest.mean_ms:,.0f} ms), recommended ({report.strategy}) {chosen.memory_mb} MB: "
            f"{chosen.mean_ms:,.0f} ms, {money(chosen.total_cost * 1e6)} per million photos."
        )
    return "\n".join(lines)
