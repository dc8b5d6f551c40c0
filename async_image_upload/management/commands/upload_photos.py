"""``manage.py upload_photos PATH...``: the whole flow as a mobile client, from the shell."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from async_image_upload.local.client import UploadClient, UploadResult

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp", ".gif", ".heic", ".heif", ".avif"}


def collect_files(paths: list[str]) -> list[Path]:
    files: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            files += sorted(p for p in path.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES)
        elif path.is_file():
            files.append(path)
        else:
            raise CommandError(f"{raw}: no such file or folder.")
    if not files:
        raise CommandError("No image files found in the given paths.")
    return files


def describe(result: UploadResult) -> list[str]:
    timings = ", ".join(f"{k} {v:.0f} ms" for k, v in result.timings_ms.items())
    lines = [f"{result.path}: {result.status} ({result.upload_id or 'no upload'}) — {timings}"]
    if result.error:
        lines.append(f"    error: {result.error}")
    for variant in result.variants:
        label = variant["name"] + (" blurred" if variant["blurred"] else "")
        lines.append(
            f"    {label:<20} {variant['width']:>5}x{variant['height']:<5} "
            f"{variant['bytes']:>9,} B  {variant['url']}"
        )
    return lines


class Command(BaseCommand):
    help = (
        "Upload photos through the API exactly as a mobile client does (presign, POST to "
        "S3, poll status) and print each upload's variants, sizes and timings. Works "
        "against the local stack or a real deployment."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("paths", nargs="+", help="Image files or folders of them.")
        parser.add_argument(
            "--api",
            default=os.environ.get("AIU_API_URL", "http://127.0.0.1:8000/api/"),
            help="Base URL the app's urls are mounted at (default: %(default)s).",
        )
        parser.add_argument(
            "--token",
            default=os.environ.get("AIU_API_TOKEN"),
            help="DRF token (Authorization: Token …); or set AIU_API_TOKEN.",
        )
        parser.add_argument("--field", default="", help="app_label.Model.field to upload for.")
        parser.add_argument("--timeout", type=float, default=120, help="Seconds to wait per file.")

    def handle(self, *args: Any, **options: Any) -> None:
        files = collect_files(options["paths"])
        client = UploadClient(
            options["api"],
            options["token"],
            field_id=options["field"],
            poll_timeout_s=options["timeout"],
        )
        failures = 0
        for path in files:
            result = client.upload(path)
            style = self.style.SUCCESS if result.status == "ready" else self.style.ERROR
            lines = describe(result)
            self.stdout.write(style(lines[0]))
            for line in lines[1:]:
                self.stdout.write(line)
            failures += result.status != "ready"
        if failures:
            raise CommandError(f"{failures} of {len(files)} uploads did not end ready.")
