"""``manage.py run_local_stack``: the whole flow on this machine, no AWS account needed."""

from __future__ import annotations

import os
import shlex
import signal
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from django import db
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.urls import reverse

from async_image_upload import s3 as app_s3
from async_image_upload.conf import upload_settings
from async_image_upload.local.s3 import port_is_free

DEFAULT_BUCKET = "local-photos"


def _interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


#: What --demo-user says when it cannot make an API token (mobile.md sends one).
NO_AUTHTOKEN = (
    "No API token for the demo user: rest_framework.authtoken is not installed, so "
    "`Authorization: Token …` clients (mobile.md, upload_photos, --smoke) get 401/403. "
    'Add "rest_framework.authtoken" to INSTALLED_APPS, add '
    '"rest_framework.authentication.TokenAuthentication" to REST_FRAMEWORK'
    "['DEFAULT_AUTHENTICATION_CLASSES'] (or ASYNC_IMAGE_UPLOAD['AUTHENTICATION_CLASSES']), "
    "run `manage.py migrate`, and start the stack again. Browsers signed in with a "
    "session need none of this."
)


def smoke_failed(result: dict[str, Any]) -> bool:
    """``--exit-after-smoke`` fails unless the upload ended ready *and* every
    ``smoke_upload_finished`` receiver ran (the demo's gallery depends on one)."""
    return result.get("status") != "ready" or bool(result.get("hook_error"))


def try_upload_command(api_url: str, token: str) -> str:
    """An ``upload_photos`` line that runs as printed, from any directory and shell.

    The interpreter and manage.py by absolute path (no venv to activate, no
    ``cd``), and a sample photo written now so there is a file to upload.
    """
    from async_image_upload.local.sample import sample_photo_bytes

    sample = Path(tempfile.gettempdir()) / "async-image-upload-sample.jpg"
    if not sample.exists():
        sample.write_bytes(sample_photo_bytes())
    script = Path(sys.argv[0]).resolve() if sys.argv and sys.argv[0] else None
    args = ["upload_photos", str(sample), "--api", api_url, "--token", token]
    if script is not None and script.name == "manage.py":
        return shlex.join([sys.executable, str(script), *args])
    # django-admin (or a test runner): name the project's settings and import path.
    project = ["--settings", os.environ.get("DJANGO_SETTINGS_MODULE", ""), "--pythonpath"]
    return shlex.join([sys.executable, "-m", "django", *args, *project, os.getcwd()])


def s3_state_dir(given: str | None) -> Path | None:
    """``--s3-state``, else ``<database>.s3`` beside a file SQLite database, else None.

    The objects belong with the database that names them: a fresh database
    (``EXAMPLE_DB=…``) gets a fresh folder, and an in-memory or server database
    keeps them in memory, as before.
    """
    if given:
        return Path(given)
    database = settings.DATABASES.get("default", {})
    name = str(database.get("NAME") or "")
    is_file = name and ":memory:" not in name and not name.startswith("file:")
    if database.get("ENGINE", "").endswith("sqlite3") and is_file:
        return Path(name + ".s3")
    return None


class Command(BaseCommand):
    help = (
        "Start an embedded S3 server, the bundled Lambda fed by S3's own event "
        "notifications, and Django's development server, wired together. Ctrl-C stops all."
    )
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--host", default="127.0.0.1", help="Bind address (default: %(default)s)."
        )
        parser.add_argument("--port", type=int, default=8000, help="Django's port.")
        parser.add_argument("--s3-port", type=int, default=9100, help="The embedded S3's port.")
        parser.add_argument(
            "--bucket", default=None, help=f"Bucket name (default: {DEFAULT_BUCKET})."
        )
        parser.add_argument(
            "--demo-user",
            metavar="NAME:PASSWORD",
            help="Create (or reset) this superuser and print its API token.",
        )
        parser.add_argument("--no-migrate", action="store_true", help="Skip `migrate`.")
        parser.add_argument(
            "--s3-state",
            metavar="DIR",
            default=None,
            help="Keep the embedded S3's objects in DIR across restarts (default: beside a "
            "file SQLite database, as <database>.s3; otherwise in memory only).",
        )
        parser.add_argument(
            "--smoke",
            nargs="?",
            const="sample",
            metavar="PATH",
            help="Once up, upload PATH (default: a generated sample photo) through the API "
            "as a client would and print the thumbnails.",
        )
        parser.add_argument(
            "--exit-after-smoke",
            action="store_true",
            help="Stop after the smoke upload; exit non-zero unless it ended ready.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        host, port, s3_port = options["host"], options["port"], options["s3_port"]
        for what, number in (("Django", port), ("S3", s3_port)):
            if not port_is_free(host, number):
                flag = "--port" if what == "Django" else "--s3-port"
                raise CommandError(
                    f"Port {number} on {host} (for {what}) is taken. Choose another with "
                    f"{flag} {number + 1} (with make demo: make demo DEMO_ARGS='{flag} "
                    f"{number + 1}')."
                )
        if not options["no_migrate"]:
            call_command("migrate", interactive=False, verbosity=0)
        token = self.demo_user(options["demo_user"]) if options["demo_user"] else None

        from async_image_upload.local.environment import lambda_environment_values
        from async_image_upload.local.s3 import start_local_s3
        from async_image_upload.local.worker import EventWorker

        origin = f"http://{host}:{port}"
        bucket = options["bucket"] or DEFAULT_BUCKET
        state_dir = s3_state_dir(options["s3_state"])
        local = start_local_s3(
            host=host,
            port=s3_port,
            bucket=bucket,
            temp_prefix=upload_settings.TEMP_PREFIX,
            cors_origins=[origin, f"http://localhost:{port}"],
            state_dir=state_dir,
        )
        callback_url = origin + reverse("async_image_upload:callback")
        self.point_settings_at(bucket, local.endpoint_url, callback_url)
        worker = EventWorker(
            local,
            lambda_environment_values(
                callback_url=callback_url, s3_endpoint_url=local.endpoint_url
            ),
        )
        worker.start()
        api_url = origin + reverse("async_image_upload:upload-create").removesuffix("uploads/")
        self.banner(origin, local.endpoint_url, bucket, options["demo_user"], token, api_url)
        self.report_state(local, state_dir)

        # SIGTERM (a service manager, or a shell that started us in the background,
        # where SIGINT is ignored) stops as cleanly as Ctrl-C; the smoke run uses it too.
        signal.signal(signal.SIGTERM, _interrupt)
        smoke_result: dict[str, Any] = {}
        if options["smoke"]:
            threading.Thread(
                target=self.smoke,
                daemon=True,
                args=(
                    options["smoke"],
                    host,
                    port,
                    api_url,
                    token,
                    smoke_result,
                    options["exit_after_smoke"],
                ),
            ).start()
        try:
            call_command("runserver", f"{host}:{port}", use_reloader=False, skip_checks=True)
        except KeyboardInterrupt:
            pass
        finally:
            worker.stop()
            worker.join(timeout=5)
            local.stop()
            self.stdout.write("Local stack stopped.")
            if options["exit_after_smoke"] and smoke_failed(smoke_result):
                raise CommandError(f"Smoke upload did not end ready: {smoke_result}")

    # -- steps -------------------------------------------------------------------
    def report_state(self, local: Any, state_dir: Path | None) -> None:
        """Say where the objects live, and which ready uploads lost theirs."""
        from async_image_upload.local.persistence import bucket_keys
        from async_image_upload.models import ImageUpload, Status

        if state_dir is None:
            self.stdout.write("  S3 objects:     in memory only (gone when the stack stops)")
        else:
            self.stdout.write(f"  S3 objects:     {state_dir} ({local.restored} restored)")
        keys = bucket_keys(local.client("s3"), local.bucket)
        lost = [
            upload.pk
            for upload in ImageUpload.objects.filter(status=Status.READY).only("pk", "variants")
            if any(variant.get("key") not in keys for variant in upload.variants or [])
        ]
        if lost:
            self.stderr.write(
                self.style.WARNING(
                    f"{len(lost)} upload(s) marked ready have images missing from the embedded "
                    f"S3 (e.g. {lost[0]}): the database outlived the objects (another "
                    "--s3-state folder, or a stack killed before it saved). Their images "
                    "will not load; upload them again, or start from a fresh database."
                )
            )

    def demo_user(self, spec: str) -> str:
        from django.contrib.auth import get_user_model

        name, sep, password = spec.partition(":")
        if not name or not sep or not password:
            raise CommandError("--demo-user takes NAME:PASSWORD, e.g. demo:demo.")
        user_model = get_user_model()
        user, _created = user_model._default_manager.get_or_create(
            **{user_model.USERNAME_FIELD: name}
        )
        user.set_password(password)
        user.is_staff = user.is_superuser = True
        user.save()
        if "rest_framework.authtoken" not in settings.INSTALLED_APPS:
            self.stderr.write(self.style.WARNING(NO_AUTHTOKEN))
            return ""
        from rest_framework.authtoken.models import Token

        return Token.objects.get_or_create(user=user)[0].key

    def point_settings_at(self, bucket: str, endpoint_url: str, callback_url: str) -> None:
        current = dict(getattr(settings, "ASYNC_IMAGE_UPLOAD", {}) or {})
        current.update(
            BUCKET=bucket,
            ENDPOINT_URL=endpoint_url,
            PUBLIC_ENDPOINT_URL=endpoint_url,
            REGION="us-east-1",
            CALLBACK_URL=callback_url,
        )
        settings.ASYNC_IMAGE_UPLOAD = current
        upload_settings.reload()
        app_s3.reset_clients()

    def banner(
        self,
        origin: str,
        s3_url: str,
        bucket: str,
        demo: str | None,
        token: str | None,
        api_url: str,
    ) -> None:
        lines = [
            "",
            self.style.SUCCESS(f"Local stack ready. Open {origin}/"),
            f"  S3 (embedded):  {s3_url}  bucket {bucket!r}",
            f"  API:            {api_url}",
            "  Lambda:         the bundled handler, fed by the bucket's ObjectCreated events",
        ]
        if demo:
            lines.append(f"  Sign in as:     {demo.partition(':')[0]} / {demo.partition(':')[2]}")
        if token:
            lines.append(f"  API token:      {token}")
            lines.append(f"  Try:            {try_upload_command(api_url, token)}")
        lines.append("  Stop with Ctrl-C.\n")
        self.stdout.write("\n".join(lines))

    def announce_smoke(self, upload_id: str, result_out: dict[str, Any]) -> None:
        """Send ``smoke_upload_finished``; a failing receiver is reported, not swallowed."""
        from async_image_upload.local.signals import smoke_upload_finished
        from async_image_upload.models import ImageUpload

        upload = ImageUpload.objects.get(pk=upload_id)
        for receiver, answer in smoke_upload_finished.send_robust(
            sender=ImageUpload, upload=upload, status=upload.status
        ):
            if isinstance(answer, Exception):
                result_out["hook_error"] = f"{receiver!r}: {answer!r}"
                self.stderr.write(f"smoke_upload_finished receiver failed: {answer!r}")

    def smoke(
        self,
        source: str,
        host: str,
        port: int,
        api_url: str,
        token: str | None,
        result_out: dict[str, Any],
        exit_after: bool,
    ) -> None:
        from async_image_upload.local.client import UploadClient
        from async_image_upload.local.sample import sample_photo_bytes
        from async_image_upload.management.commands.upload_photos import describe

        try:
            deadline = time.monotonic() + 30
            while port_is_free(host, port) and time.monotonic() < deadline:
                time.sleep(0.1)
            if source == "sample":
                path = Path(tempfile.mkdtemp()) / "sample-photo.jpg"
                path.write_bytes(sample_photo_bytes())
            else:
                path = Path(source)
            result = UploadClient(api_url, token).upload(path)
            result_out["status"] = result.status
            result_out["error"] = result.error
            for line in describe(result):
                self.stdout.write(line)
            if result.upload_id:
                self.announce_smoke(result.upload_id, result_out)
        except Exception as exc:  # report, never leave the server hanging
            result_out["error"] = repr(exc)
        finally:
            db.close_old_connections()
            if exit_after:
                # SIGTERM, not _thread.interrupt_main(): that simulates SIGINT, which
                # does nothing where SIGINT is ignored (a script's background job, CI),
                # and the stack would keep serving forever.
                os.kill(os.getpid(), signal.SIGTERM)
