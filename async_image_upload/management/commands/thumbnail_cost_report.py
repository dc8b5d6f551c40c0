"""``manage.py thumbnail_cost_report PATH...``: what the thumbnail Lambda costs on your photos.

Runs the bundled pipeline on each photo (a fresh process per photo, for an honest
peak memory), then prices it at every memory size on arm64 and x86_64 with the
model in :mod:`async_image_upload.tuning.model`. The work is in that package; this
module parses options, shows progress and writes the outputs.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from async_image_upload.tuning.inputs import find_photos, settings_worst_case, spec_from_settings
from async_image_upload.tuning.measure import Failure, measure_file
from async_image_upload.tuning.model import MAX_MEMORY_MB, MEMORY_SIZES, MIN_MEMORY_MB, Assumptions
from async_image_upload.tuning.prices import ARCHITECTURES, prices_from, prices_from_file
from async_image_upload.tuning.recommendation import DEFAULT_FILE, write_recommendation
from async_image_upload.tuning.report import STRATEGIES, build_report
from async_image_upload.tuning.text import render

#: Command-line flags for the model's assumptions: (flag, field, help).
ASSUMPTION_FLAGS = (
    ("--cpu-scale", "cpu_scale", "Lambda x86_64 CPU time per CPU second measured here"),
    ("--arm64-cpu-factor", "arm64_cpu_factor", "arm64 CPU time per x86_64 CPU time"),
    ("--s3-get-ms", "s3_get_latency_ms", "latency of one S3 GET/HEAD/DELETE"),
    ("--s3-put-ms", "s3_put_latency_ms", "latency of one S3 PUT"),
    ("--s3-mb-per-s", "s3_throughput_mb_s", "S3 transfer rate, MB/s"),
    ("--callback-ms", "callback_ms", "round trip of the signed callback to Django"),
    ("--cold-start-rate", "cold_start_fraction", "share of invocations that are cold (0-1)"),
    ("--runtime-overhead-mb", "runtime_overhead_mb", "Lambda runtime memory beyond ours"),
)


def _memory_sizes(value: str) -> tuple[int, ...]:
    try:
        sizes = tuple(sorted({int(part) for part in value.split(",") if part.strip()}))
    except ValueError:
        raise CommandError(f"--memory-sizes takes comma-separated MB, not {value!r}") from None
    if not sizes or not all(MIN_MEMORY_MB <= size <= MAX_MEMORY_MB for size in sizes):
        raise CommandError(f"memory sizes must be {MIN_MEMORY_MB}-{MAX_MEMORY_MB} MB")
    return sizes


class Command(BaseCommand):
    help = (
        "Measure the thumbnail pipeline on your own photos and print the Lambda duration and "
        "cost per memory size and architecture, with the cheapest, fastest and recommended size."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("paths", nargs="+", type=Path, metavar="PATH", help="photos or folders")
        parser.add_argument("--repeats", type=int, default=3, help="timed runs per photo (median)")
        parser.add_argument(
            "--arch", choices=ARCHITECTURES, action="append", dest="architectures",
            help="only this architecture (repeatable; default both)",
        )  # fmt: skip
        parser.add_argument(
            "--memory-sizes", type=_memory_sizes, default=MEMORY_SIZES,
            help="comma-separated MB (default: " + ",".join(map(str, MEMORY_SIZES)) + ")",
        )  # fmt: skip
        parser.add_argument("--strategy", choices=STRATEGIES, default="balanced")
        parser.add_argument("--prices", type=Path, metavar="FILE.json", help="price overrides")
        parser.add_argument("--json", type=Path, metavar="FILE", help="write the full report")
        parser.add_argument("--chart", type=Path, metavar="FILE.png", help="needs matplotlib")
        parser.add_argument(
            "--write-recommendation", nargs="?", const=DEFAULT_FILE, type=Path, metavar="FILE",
            help=f"write the recommendation for `deploy_thumbnail_stack --memory recommended` "
            f"(default {DEFAULT_FILE})",
        )  # fmt: skip
        for flag, name, text in ASSUMPTION_FLAGS:
            parser.add_argument(flag, type=float, dest=name, help=text)

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            photos = find_photos(options["paths"])
            prices = (
                prices_from_file(options["prices"])
                if options["prices"]
                else prices_from(self._settings_prices())
            )
            assumptions = Assumptions(
                **{
                    name: options[name]
                    for _, name, _ in ASSUMPTION_FLAGS
                    if options[name] is not None
                }
            )
        except (OSError, ValueError) as exc:
            raise CommandError(str(exc)) from None
        if not photos:
            raise CommandError("No photos found under the given paths.")
        if options["chart"]:
            self._check_chart_support()

        measurements, failures = self._measure(photos, spec_from_settings(), options["repeats"])
        if not measurements:
            listing = "\n".join(f"  {f.name}: {f.code}: {f.message}" for f in failures)
            raise CommandError(f"None of the {len(photos)} files could be processed:\n{listing}")
        report = build_report(
            measurements,
            failures,
            memory_sizes=options["memory_sizes"],
            architectures=options["architectures"] or ARCHITECTURES,
            prices=prices,
            assumptions=assumptions,
            strategy=options["strategy"],
            settings_worst_case=settings_worst_case(),
        )
        self.stdout.write(render(report))
        data = report.as_dict()
        if options["json"]:
            options["json"].write_text(json.dumps(data, indent=2) + "\n")
            self.stdout.write(f"Wrote {options['json']}")
        if options["chart"]:
            from async_image_upload.tuning.chart import write_chart

            write_chart(report, options["chart"])
            self.stdout.write(f"Wrote {options['chart']}")
        if options["write_recommendation"]:
            write_recommendation(data, options["write_recommendation"])
            self.stdout.write(
                f"Wrote {options['write_recommendation']}: deploy with "
                "`manage.py deploy_thumbnail_stack --memory recommended`."
            )

    @staticmethod
    def _settings_prices() -> dict[str, Any] | None:
        from async_image_upload.conf import upload_settings

        return upload_settings.TUNING_PRICES

    @staticmethod
    def _check_chart_support() -> None:
        """Fail before minutes of measuring, not after, when the chart cannot be drawn."""
        try:
            import matplotlib  # noqa: F401
        except ImportError:
            raise CommandError(
                "--chart needs matplotlib: pip install 'django-async-images[tuning]'"
            ) from None

    def _measure(self, photos: list[Path], spec: dict[str, Any], repeats: int):
        measurements, failures = [], []
        for index, photo in enumerate(photos, start=1):
            self._progress(f"[{index}/{len(photos)}] {photo} ...")
            result = measure_file(photo, dict(spec), repeats)
            if isinstance(result, Failure):
                failures.append(result)
                self._progress(f"[{index}/{len(photos)}] {photo}: BAD ({result.code})", done=True)
            else:
                measurements.append(result)
                self._progress(
                    f"[{index}/{len(photos)}] {photo}: {result.cpu_s * 1000:,.0f} ms CPU, "
                    f"peak {result.peak_rss_mb:,.0f} MB",
                    done=True,
                )
        return measurements, failures

    def _progress(self, text: str, done: bool = False) -> None:
        """One line per photo on stderr, rewritten in place on a terminal."""
        stream = self.stderr
        interactive = hasattr(sys.stderr, "isatty") and sys.stderr.isatty()
        if interactive:
            stream.write("\r\033[K" + text, ending="\n" if done else "")
            stream.flush()
        elif done:
            stream.write(text)
