"""``manage.py deploy_thumbnail_stack``: settings in, running thumbnail stack out.

Thin on purpose: it parses options and turns failures into readable
CommandErrors; the work is in :mod:`async_image_upload.infra`.
"""

from __future__ import annotations

import argparse
import ipaddress
import json
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from django.core.management.base import BaseCommand, CommandError, CommandParser

from async_image_upload.conf import upload_settings
from async_image_upload.infra.config import (
    ARCHITECTURES,
    CDN_PRICE_CLASSES,
    RUNTIMES,
    ConfigError,
    StackConfig,
    config_from_settings,
)
from async_image_upload.infra.package import PackagingError
from async_image_upload.infra.summary import (
    cdn_summary,
    cors_summary,
    cors_warning,
    memory_warning_for,
)
from async_image_upload.infra.template import build_template, template_body


def _memory_option(value: str) -> int | str:
    """``--memory``: a number of MB or the word ``recommended``."""
    if value == "recommended":
        return value
    try:
        return int(value)
    except ValueError:
        raise argparse.ArgumentTypeError("expected MB (e.g. 1024) or 'recommended'") from None


class Command(BaseCommand):
    help = (
        "Build the thumbnail Lambda and deploy its CloudFormation stack from the "
        "ASYNC_IMAGE_UPLOAD settings (or just write the template with --dry-run --output)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--stack-name", help="CloudFormation stack (default async-image-upload)"
        )
        parser.add_argument("--region", help="AWS region (default: the REGION setting)")
        parser.add_argument("--profile", help="AWS profile from ~/.aws/config")
        bucket = parser.add_mutually_exclusive_group()
        bucket.add_argument("--new-bucket", metavar="NAME", help="let the stack create this bucket")
        bucket.add_argument(
            "--existing-bucket", metavar="NAME", help="use a bucket you already have"
        )
        parser.add_argument("--function-name", help="Lambda name (default <stack>-thumbnails)")
        parser.add_argument(
            "--memory", type=_memory_option, dest="memory_mb",
            help="Lambda memory in MB, or 'recommended' to use what "
            "thumbnail_cost_report --write-recommendation measured",
        )  # fmt: skip
        parser.add_argument("--arch", choices=ARCHITECTURES, dest="architecture")
        parser.add_argument("--runtime", choices=RUNTIMES)
        parser.add_argument("--timeout", type=int, dest="timeout_seconds", help="seconds")
        parser.add_argument("--temp-expiration-days", type=int)
        parser.add_argument(
            "--cors-origin", action="append", dest="cors_origins", metavar="ORIGIN",
            help="origin allowed to POST uploads from a browser (repeatable)",
        )  # fmt: skip
        parser.add_argument("--reserved-concurrency", type=int)
        parser.add_argument("--log-retention-days", type=int)
        parser.add_argument(
            "--alarm-email", metavar="ADDRESS",
            help="e-mail the CloudWatch alarms (dead letters, errors, throttles) here",
        )  # fmt: skip
        parser.add_argument(
            "--tracing", action="store_true", default=None,
            help="turn on X-Ray active tracing for the function (billed per trace)",
        )  # fmt: skip
        parser.add_argument(
            "--cdn", action="store_true", default=None,
            help="put a CloudFront distribution (HTTPS only, Origin Access Control) in front "
            "of the image prefix; the bucket stays private",
        )  # fmt: skip
        parser.add_argument(
            "--cdn-public-key", metavar="PATH",
            help="RSA 2048 public key (PEM): the distribution then serves only CloudFront "
            "signed URLs/cookies made with its private key (implies --cdn)",
        )  # fmt: skip
        parser.add_argument(
            "--cdn-price-class", choices=CDN_PRICE_CLASSES,
            help="edge locations to pay for (default PriceClass_100: North America, Europe)",
        )  # fmt: skip
        parser.add_argument(
            "--no-heif", action="store_false", dest="heif", default=None,
            help="leave pillow-heif out of the package (no HEIC/HEIF input)",
        )  # fmt: skip
        parser.add_argument("--output", metavar="FILE", help="write the template (.json or .yaml)")
        parser.add_argument(
            "--dry-run", action="store_true", help="show what would happen; no AWS calls at all"
        )
        parser.add_argument(
            "--package-only", action="store_true", help="build the Lambda zip, print its path"
        )
        parser.add_argument("--zip", metavar="PATH", help="deploy this prebuilt Lambda zip")
        parser.add_argument("--artifacts-bucket", help="bucket for the Lambda zip")
        parser.add_argument("--check", action="store_true", help="compare the stack with settings")
        parser.add_argument("--delete", action="store_true", help="tear the stack down")
        parser.add_argument("--yes", action="store_true", help="do not ask before changing")
        parser.add_argument("--endpoint-url", help="AWS endpoint (emulators and tests)")

    def handle(self, *args: Any, **options: Any) -> None:
        config = self._config(options)
        self._warn_unreachable_callback(config.callback_url)
        self._warn_memory(config)
        problem = cors_warning(config)
        if problem:
            self.stderr.write(self.style.WARNING(problem))
        if options["output"]:
            self._write_template(config, Path(options["output"]))
        if options["dry_run"]:
            self._describe_dry_run(config, self._cors_source(options))
            return
        if options["package_only"]:
            package = self._package(config, options)
            self.stdout.write(
                f"{package.path}\n  sha256 {package.sha256}\n  {package.zipped_bytes:,} bytes "
                f"zipped, {package.unzipped_bytes:,} unzipped ({config.architecture}, "
                f"{config.runtime})"
            )
            return
        if options["output"] and not (options["check"] or options["delete"]):
            # --output alone only writes the template (the manual-deploy path).
            return
        from async_image_upload.infra.aws_steps import run_aws_steps

        run_aws_steps(self, config, options)

    def _warn_unreachable_callback(self, callback_url: str) -> None:
        """A deployed Lambda cannot call back to this machine's loopback address."""
        host = (urlsplit(callback_url).hostname or "").lower()
        if host == "localhost" or host.endswith(".localhost") or _is_loopback(host):
            self.stderr.write(
                self.style.WARNING(
                    f"CALLBACK_URL {callback_url} points at this machine; the Lambda in AWS "
                    "cannot reach it and every upload would stay pending. Set "
                    "ASYNC_IMAGE_UPLOAD['CALLBACK_URL'] to your site's public https URL."
                )
            )

    def _warn_memory(self, config: StackConfig) -> None:
        """The Lambda refuses what its memory cannot hold: say so before deploying it."""
        problem = memory_warning_for(config, upload_settings.ALLOWED_CONTENT_TYPES)
        if problem:
            self.stderr.write(self.style.WARNING(problem))

    def _config(self, options: dict[str, Any]) -> StackConfig:
        bucket_name = options["new_bucket"] or options["existing_bucket"]
        cdn: dict[str, Any] = {}
        if options.get("cdn_public_key"):
            from async_image_upload.infra.cdn import PublicKeyError, read_public_key

            try:
                cdn["cdn_public_key"] = read_public_key(options["cdn_public_key"])
            except PublicKeyError as exc:
                raise CommandError(str(exc)) from None
            cdn["cdn"] = True
        try:
            return config_from_settings(
                bucket_name=bucket_name,
                bucket_mode="existing" if options["existing_bucket"] else "new",
                **cdn,
                **{
                    key: options.get(key)
                    for key in (
                        "stack_name",
                        "region",
                        "function_name",
                        "memory_mb",
                        "architecture",
                        "runtime",
                        "timeout_seconds",
                        "temp_expiration_days",
                        "cors_origins",
                        "reserved_concurrency",
                        "log_retention_days",
                        "heif",
                        "alarm_email",
                        "tracing",
                        "cdn",
                        "cdn_price_class",
                    )
                    if key not in cdn
                },
            )
        except ConfigError as exc:
            raise CommandError(f"Cannot build the stack: {exc}") from None

    def _write_template(self, config: StackConfig, path: Path) -> None:
        fmt = {".json": "json", ".yaml": "yaml", ".yml": "yaml"}.get(path.suffix.lower())
        if fmt is None:
            raise CommandError(f"--output must end in .json or .yaml, not {path.name!r}")
        try:
            path.write_text(template_body(build_template(config), fmt) + "\n")
        except OSError as exc:
            where = "its directory does not exist" if isinstance(exc, FileNotFoundError) else None
            raise CommandError(
                f"Cannot write --output {path}: {where or exc.strerror or exc}."
            ) from None
        self.stdout.write(f"Wrote {path} ({config.bucket_mode} bucket, {config.architecture}).")

    @staticmethod
    def _cors_source(options: dict[str, Any]) -> str:
        from async_image_upload.infra.config import default_cors_origins

        return "--cors-origin" if options.get("cors_origins") else default_cors_origins()[1]

    def _describe_dry_run(self, config: StackConfig, cors_source: str) -> None:
        from async_image_upload.infra.bucket_inspect import tls_statement_to_merge
        from async_image_upload.infra.bucket_merge import our_lifecycle_rules, our_notification

        template = build_template(config)
        self.stdout.write(
            f"Dry run (no AWS calls). Stack {config.stack_name} in {config.region}, "
            f"{config.bucket_mode} bucket {config.bucket_name}, function {config.function_name} "
            f"({config.architecture}, {config.runtime}, {config.memory_mb} MB, "
            f"{config.timeout_seconds} s)."
        )
        self.stdout.write("Resources:")
        for name, resource in sorted(template.resources.items()):
            self.stdout.write(f"  {resource.resource_type:<34} {name}")
        self.stdout.write(cors_summary(config, cors_source))
        self.stdout.write(f"Output images carry Cache-Control: {config.cache_control}")
        for line in cdn_summary(config):
            self.stdout.write(line)
        if not config.is_new_bucket:
            function_arn = f"<{config.function_name} ARN>"
            self.stdout.write(
                "After the stack deploys, these entries are merged into the bucket "
                "(other notification and lifecycle entries are kept; --check shows the "
                "merge against the live bucket):"
            )
            self.stdout.write(
                json.dumps(our_notification(function_arn, config.temp_prefix), indent=2)
            )
            for rule in our_lifecycle_rules(config.temp_prefix, config.temp_expiration_days):
                self.stdout.write(json.dumps(rule, indent=2))
            self.stdout.write(
                (
                    "The command adds only the CDN's read statement (below) to the bucket policy"
                    if config.cdn
                    else "The bucket policy is never changed"
                )
                + "; unless it already refuses plain HTTP, merge this statement into it:"
            )
            self.stdout.write(json.dumps(tls_statement_to_merge(config.bucket_name), indent=2))
            if config.cdn:
                from async_image_upload.infra.cdn import api_read_statement

                self.stdout.write(
                    "With --cdn, the command itself merges this statement into the bucket "
                    "policy once the distribution exists (other statements are kept):"
                )
                statement = api_read_statement(
                    config.bucket_name, config.image_prefix, "<CdnDistributionArn>"
                )
                self.stdout.write(json.dumps(statement, indent=2))

    def _package(self, config: StackConfig, options: dict[str, Any]):
        from async_image_upload.infra.package import build_lambda_zip

        self.stdout.write(
            f"Building the Lambda package for {config.architecture}/{config.runtime}..."
        )
        try:
            return build_lambda_zip(
                architecture=config.architecture,
                python_version=config.python_version,
                heif=config.heif,
            )
        except PackagingError as exc:
            raise CommandError(str(exc)) from None


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
