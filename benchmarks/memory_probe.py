"""Run the Lambda pipeline on one file in a fresh process and report its peak memory.

Used by ``tests/lambda_function/test_memory_budget.py`` and
``benchmarks/memory_by_format.py``::

    python -m benchmarks.memory_probe FILE --memory-mb 512 [--variants 50x50,original]

Why a child process, and why peak RSS: Lambda charges a function for the
resident memory of its sandbox (the runtime, the imports, the handler's
objects) and kills it past the configured size. A fresh interpreter that
imports the handler exactly like a cold start (Pillow, boto3 and one S3 client)
and then runs the pipeline has the same resident set; its ``VmHWM`` (the peak
RSS the kernel recorded) is what Lambda's "Max Memory Used" reports.
``RLIMIT_AS`` would count Python's and the codecs' reserved-but-untouched
virtual maps (thread arenas, dav1d's thread stacks) and kill far too early; the
machine's cgroups are read-only, so the memory size cannot be enforced by the
kernel here: the probe measures, and the callers compare the peak with the size.
Not ``ru_maxrss`` either: after fork and exec it keeps the forking parent's
peak (a test runner that just generated a 49 MP image), while ``VmHWM`` starts
afresh with the new program.

Prints one JSON object: ``status`` (``ready``/``failed``), ``code``,
``baseline_mb`` (RSS after the cold-start imports), ``peak_mb``, ``cpu_s``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time


def status_mb(field: str) -> float:
    """``field`` (``VmRSS``, ``VmHWM``) of this process, in MB."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    raise RuntimeError(f"no {field} in /proc/self/status")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path")
    parser.add_argument("--memory-mb", type=int, default=512)
    parser.add_argument("--variants", default="50x50,100x100,400x400,original")
    parser.add_argument("--blur-radius", type=int, default=20)
    parser.add_argument("--max-pixels", type=int, default=50_000_000)
    args = parser.parse_args(argv)

    # A cold start: the handler module (Pillow, the pipeline) and one S3 client.
    import boto3

    from lambda_function import handler  # noqa: F401
    from lambda_function.errors import ImageError
    from lambda_function.memory_budget import RUNTIME_BASELINE_MB
    from lambda_function.pipeline import Spec, VariantSpec, process

    boto3.client("s3", region_name="us-east-1")
    baseline_mb = status_mb("VmRSS")

    with open(args.path, "rb") as source:
        data = source.read()
    spec = Spec(
        variants=tuple(VariantSpec.parse(name) for name in args.variants.split(",")),
        blur_radius=args.blur_radius,
        max_pixels=args.max_pixels,
        max_animation_pixels=5 * args.max_pixels,
        memory_mb=args.memory_mb,
    )
    started = time.process_time()
    wall = time.perf_counter()
    report: dict[str, object]
    try:
        result = process(data, spec)
        report = {
            "status": "ready",
            "code": None,
            "estimate_mb": result.memory_estimate_mb,
        }
    except ImageError as error:
        report = {"status": "failed", "code": error.code.value, "message": error.message}
    report.update(
        baseline_mb=round(baseline_mb, 1),
        assumed_baseline_mb=RUNTIME_BASELINE_MB,
        peak_mb=round(status_mb("VmHWM"), 1),
        cpu_s=round(time.process_time() - started, 2),
        wall_s=round(time.perf_counter() - wall, 2),
    )
    json.dump(report, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
