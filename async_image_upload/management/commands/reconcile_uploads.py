"""``manage.py reconcile_uploads``: the cron job that makes "nothing lost" true.

Exit codes, for cron and monitoring: 0 all went well (whether or not anything
needed fixing), 1 some uploads or keys could not be handled (the rest were),
2 the command could not run at all (no bucket configured).
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from async_image_upload.conf import upload_settings
from async_image_upload.reconcile import Action, ReconcileOptions, reconcile

EXIT_ERRORS = 1
EXIT_UNUSABLE = 2


class Command(BaseCommand):
    help = (
        "Finish uploads whose callback never arrived (from the manifests the Lambda wrote), "
        "expire uploads that never arrived, and report (or delete) orphaned S3 objects. "
        "Safe to run repeatedly and on several hosts at once."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--dry-run", action="store_true", help="Change nothing; report what would be done."
        )
        parser.add_argument(
            "--delete-orphans",
            action="store_true",
            help="Delete temp objects and output folders that have no upload row.",
        )
        parser.add_argument(
            "--orphan-grace",
            type=float,
            default=3600,
            metavar="SECONDS",
            help="Leave orphans (and unprocessed sources) younger than this alone "
            "(default: %(default)s).",
        )
        parser.add_argument(
            "--lookback-days",
            type=float,
            default=14,
            help="How long an expired upload may still be finished by a late manifest "
            "(default: %(default)s, the dead-letter queue's retention).",
        )
        parser.add_argument(
            "--json", action="store_true", help="Print the report as JSON instead of text."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not upload_settings.BUCKET:
            raise CommandError(
                "No bucket configured: set ASYNC_IMAGE_UPLOAD['BUCKET'].", returncode=EXIT_UNUSABLE
            )
        if options["orphan_grace"] < 0 or options["lookback_days"] < 0:
            raise CommandError(
                "--orphan-grace and --lookback-days cannot be negative.", returncode=EXIT_UNUSABLE
            )
        report = reconcile(
            ReconcileOptions(
                dry_run=options["dry_run"],
                delete_orphans=options["delete_orphans"],
                orphan_grace=timedelta(seconds=options["orphan_grace"]),
                lookback=timedelta(days=options["lookback_days"]),
            )
        )
        verbosity = options["verbosity"]
        if options["json"]:
            self.stdout.write(json.dumps(report.as_dict(), indent=2))
        elif verbosity >= 1:
            for line in report.summary_lines():
                self.stdout.write(line)
            if verbosity >= 2:
                for finding in report.findings:
                    if finding.action != Action.ERROR:
                        detail = f" ({finding.detail})" if finding.detail else ""
                        self.stdout.write(f"  {finding.action}: {finding.subject}{detail}")
        for error in report.errors:
            self.stderr.write(f"error: {error.subject}: {error.detail}")
        if report.errors:
            raise CommandError(
                f"{len(report.errors)} item(s) could not be reconciled; the rest were.",
                returncode=EXIT_ERRORS,
            )
