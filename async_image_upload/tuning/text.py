"""The report as plain text for a terminal: one table per architecture, then the choices.

Every table is per million uploads and splits Lambda's charge into measured CPU,
assumed waits and the fixed part (request charge, amortised INIT), with the S3
request charges beside it; a sensitivity table follows.
"""

from __future__ import annotations

from async_image_upload.tuning.model import S3Requests
from async_image_upload.tuning.report import WAIT_FACTORS, Report, Row, sensitivity

MILLION = 1_000_000


def money(value: float) -> str:
    """Dollars with enough significant digits for sub-cent per-photo prices."""
    return f"${value:.3g}" if value < 0.01 else f"${value:,.2f}"


def _notes(report: Report, row: Row) -> str:
    notes = []
    if not row.fits:
        notes.append("OUT OF MEMORY")
    elif not row.holds_allowed_inputs:
        notes.append("refuses allowed inputs")
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
    """Per million uploads: measured CPU apart from assumed waits, S3 beside Lambda."""
    header = (
        f"{'memory MB':>9}  {'billed ms':>9}  {'CPU ms':>7}  {'waits ms':>8}  "
        f"{'Lambda CPU':>10}  {'L. waits':>9}  {'L. fixed':>8}  {'Lambda':>8}  "
        f"{'S3 req.':>8}  {'total':>8}  notes"
    )
    lines = [
        f"{architecture} ({money(report.prices.gb_second(architecture))} per GB-second); "
        "USD per million uploads, corpus mean",
        header,
    ]
    for row in report.rows_for(architecture):
        lines.append(
            f"{row.memory_mb:>9}  {row.mean_ms:>9,.0f}  {row.compute_ms:>7,.0f}  "
            f"{row.wait_ms:>8,.0f}  {money(row.cpu_cost * MILLION):>10}  "
            f"{money(row.wait_cost * MILLION):>9}  {money(row.fixed_cost * MILLION):>8}  "
            f"{money(row.lambda_cost * MILLION):>8}  {money(row.s3_cost * MILLION):>8}  "
            f"{money(row.total_cost * MILLION):>8}  {_notes(report, row)}"
        )
    return "\n".join(lines)


def render_requests(report: Report) -> str:
    """The S3 requests one upload makes, by price class, and what they cost."""
    outputs = max((m.outputs for m in report.measurements), default=0)
    requests = S3Requests.per_upload(outputs)
    prices = report.prices
    return (
        f"S3 requests per upload ({outputs} outputs): {requests.put_class} PUT-class "
        f"(the client's POST, the claim, {outputs} outputs, the manifest) and "
        f"{requests.get_class} GET-class (HEAD, GET manifest, GET source); the DELETE is free. "
        f"{money(requests.cost(prices) * MILLION)} per million uploads, the same at every size."
    )


def _sum_cell(lambda_cost: float, s3_cost: float) -> str:
    return f"{money(lambda_cost)} + {money(s3_cost)} = {money(lambda_cost + s3_cost)}"


def render_sensitivity(report: Report, architecture: str) -> list[str]:
    """Total per million at the recommended size with the waits and arm64's factor moved."""
    rows = sensitivity(report, architecture)
    if not rows:
        return []
    lines = [
        f"{architecture + ', ' + str(rows[0].memory_mb) + ' MB':<18}"
        + "".join(f"{'waits x' + format(factor, 'g'):>30}" for factor in WAIT_FACTORS)
    ]
    for factor in sorted({row.arm64_cpu_factor for row in rows}):
        label = f"  CPU factor {factor:g}" if architecture == "arm64" else "  (reference CPU)"
        cells = "".join(
            f"{_sum_cell(c.lambda_per_million, c.s3_per_million):>30}"
            for c in rows
            if c.arm64_cpu_factor == factor
        )
        lines.append(f"{label:<18}{cells}")
    return lines


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
    lines += [
        "",
        "Measured apart from assumed: 'CPU ms' is this machine's measured CPU time scaled to "
        "each size's CPU share; 'waits ms' is the assumed S3 and callback time above. "
        "Lambda's charge is split into CPU, waits and fixed (request charge and amortised "
        "INIT); 'S3 req.' is the S3 request charge, billed by S3, not Lambda.",
        render_requests(report),
    ]
    for architecture in architectures:
        lines += ["", render_table(report, architecture)]
    lines += [
        "",
        "Sensitivity (USD per million uploads, Lambda + S3 = total, at the recommended size):",
    ]
    for architecture in architectures:
        lines += render_sensitivity(report, architecture)
    lines += [
        "",
        f"Runs out of memory below {report.required_memory_mb:,.0f} MB (largest peak RSS plus "
        f"{assumptions.runtime_overhead_mb:g} MB for the runtime).",
    ]
    worst = report.settings_worst_case
    if worst is not None:
        lines.append(
            f"The settings allow a {worst.pixels / 1e6:g} MP {worst.content_type} "
            f"({worst.kind}) that needs {worst.needed_mb:,} MB by the Lambda's memory estimate; "
            "smaller sizes would refuse it (too_much_memory)."
        )
    lines.append(f"Sizes below {report.safe_memory_mb:,.0f} MB are not recommended.")
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
