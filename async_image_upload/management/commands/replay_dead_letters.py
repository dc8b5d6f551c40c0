"""``manage.py replay_dead_letters``: list, then replay, the events the Lambda gave up on.

Exit codes: 0 all listed or replayed, 1 some replays failed (those messages stay
in the queue), 2 the queue could not be found, read or released, or --local has no
CALLBACK_URL.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from django.core.management.base import BaseCommand, CommandError

from async_image_upload import dead_letters as dl
from async_image_upload.conf import upload_settings
from async_image_upload.local.invoker import LocalInvoker
from async_image_upload.models import ImageUpload

EXIT_FAILED = 1
EXIT_UNUSABLE = 2


def describe_age(seconds: float | None) -> str:
    if seconds is None:
        return "age unknown"
    minutes = int(seconds // 60)
    if minutes < 60:
        return f"{minutes}m ago"
    hours = minutes // 60
    return f"{hours}h{minutes % 60:02d}m ago" if hours < 48 else f"{hours // 24}d ago"


class Command(BaseCommand):
    help = (
        "Inspect the thumbnail stack's dead-letter queue and, after a fix, replay its events "
        "by invoking the function again. A message is deleted only after its replay was "
        "accepted."
    )

    def add_arguments(self, parser: Any) -> None:
        where = parser.add_mutually_exclusive_group()
        where.add_argument("--queue-url", help="The dead-letter queue's URL.")
        where.add_argument(
            "--stack",
            help="Read the queue URL from this stack's DeadLetterQueueUrl output "
            "(default: the deployed stack's name from the settings).",
        )
        mode = parser.add_mutually_exclusive_group()
        mode.add_argument(
            "--list", action="store_true", help="Only list the messages (the default)."
        )
        mode.add_argument("--replay", action="store_true", help="Replay the messages.")
        how = parser.add_mutually_exclusive_group()
        how.add_argument(
            "--invoke-function",
            metavar="ARN",
            help="Function to invoke (default: the one each message names).",
        )
        how.add_argument(
            "--local",
            action="store_true",
            help="Run the bundled handler in this process instead of invoking Lambda.",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="With --replay: show what would be replayed."
        )
        parser.add_argument("--limit", type=int, default=100, help="At most this many messages.")
        parser.add_argument(
            "--hold",
            type=int,
            default=dl.HOLD_SECONDS,
            metavar="SECONDS",
            help="Hide the messages from other readers this long while working "
            "(default: %(default)s).",
        )
        parser.add_argument(
            "--wait",
            type=int,
            default=dl.RECEIVE_WAIT_SECONDS,
            metavar="SECONDS",
            help="Long-poll each receive this long; the listing ends after two empty "
            "replies in a row (default: %(default)s).",
        )
        parser.add_argument("--region", default=None, help="AWS region (default: REGION).")
        parser.add_argument(
            "--endpoint-url", default=None, help="For emulators: SQS/Lambda endpoint URL."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        region = options["region"] or upload_settings.REGION
        session = _Clients(region, options["endpoint_url"])
        queue_url = options["queue_url"] or self.queue_from_stack(session, options["stack"])
        sqs = session.client("sqs")
        invoker: dl.Invoker | None = None
        if options["replay"]:  # before receiving: a refusal must not leave messages hidden
            invoker = self.invoker(session, options)
        try:
            letters = dl.receive(
                sqs,
                queue_url,
                limit=options["limit"],
                hold_s=options["hold"],
                wait_s=options["wait"],
            )
        except (ClientError, BotoCoreError) as exc:
            raise CommandError(f"Cannot read {queue_url}: {exc}", returncode=EXIT_UNUSABLE) from exc
        statuses = self.upload_statuses(letters)
        if invoker is None:
            try:
                dl.release(sqs, queue_url, letters)
            except (ClientError, BotoCoreError) as exc:
                raise self.release_failed(exc, options) from exc
            self.stdout.write(f"{len(letters)} message(s) in {queue_url}")
            for letter in letters:
                self.stdout.write(self.describe(letter, statuses))
            return
        try:
            results = dl.replay(
                sqs,
                queue_url,
                letters,
                invoker,
                dry_run=options["dry_run"],
                # In-process runs are slow: keep each message hidden while it runs.
                hold_s=options["hold"] if options["local"] else None,
            )
        except (ClientError, BotoCoreError) as exc:
            raise self.release_failed(exc, options) from exc
        for result in results:
            detail = f": {result.detail}" if result.detail else ""
            self.stdout.write(
                f"{result.outcome}{detail}\n  {self.describe(result.letter, statuses)}"
            )
        counts = {
            outcome: sum(1 for r in results if r.outcome == outcome)
            for outcome in ("replayed", "would_replay", "failed", "skipped")
        }
        self.stdout.write(", ".join(f"{n} {name.replace('_', ' ')}" for name, n in counts.items()))
        if counts["failed"]:
            raise CommandError(
                f"{counts['failed']} replay(s) failed; those messages stay in the queue.",
                returncode=EXIT_FAILED,
            )

    def invoker(self, session: _Clients, options: dict[str, Any]) -> dl.Invoker:
        if options["local"]:
            try:
                return LocalInvoker.from_settings()
            except dl.ReplayError as exc:
                raise CommandError(str(exc), returncode=EXIT_UNUSABLE) from exc
        return dl.LambdaInvoker(session.client("lambda"), options["invoke_function"])

    def release_failed(self, exc: Exception, options: dict[str, Any]) -> CommandError:
        return CommandError(
            f"Could not make the messages visible again ({exc}). Nothing is lost: they "
            f"reappear by themselves within --hold ({options['hold']} s); any replayed ones "
            "were already deleted.",
            returncode=EXIT_UNUSABLE,
        )

    def queue_from_stack(self, session: _Clients, stack: str | None) -> str:
        from async_image_upload.infra.config import DEFAULT_STACK_NAME

        name = stack or upload_settings.DEPLOY_STACK_NAME or DEFAULT_STACK_NAME
        try:
            described = session.client("cloudformation").describe_stacks(StackName=name)
        except (ClientError, BotoCoreError) as exc:
            raise CommandError(
                f"Cannot read stack {name!r} ({exc}); pass --queue-url.", returncode=EXIT_UNUSABLE
            ) from exc
        for output in described["Stacks"][0].get("Outputs", []):
            if output["OutputKey"] == "DeadLetterQueueUrl":
                return str(output["OutputValue"])
        raise CommandError(
            f"Stack {name!r} has no DeadLetterQueueUrl output; pass --queue-url.",
            returncode=EXIT_UNUSABLE,
        )

    def upload_statuses(self, letters: list[dl.DeadLetter]) -> dict[str, str]:
        ids = [i for letter in letters for i in dl.upload_ids(letter, upload_settings.TEMP_PREFIX)]
        valid = [i for i in ids if _is_uuid(i)]
        rows = ImageUpload.objects.filter(pk__in=valid).values_list("pk", "status")
        return {str(pk): status for pk, status in rows}

    def describe(self, letter: dl.DeadLetter, statuses: dict[str, str]) -> str:
        attempts = f" after {letter.attempts} attempts" if letter.attempts else ""
        uploads = ", ".join(
            f"{upload_id} ({statuses.get(upload_id, 'no upload row')})"
            for upload_id in dl.upload_ids(letter, upload_settings.TEMP_PREFIX)
        )
        line = (
            f"{letter.message_id}  {describe_age(letter.age_seconds())}  "
            f"{letter.condition}{attempts}  received {letter.receive_count}x  "
            f"{uploads or ', '.join(letter.keys) or 'no keys'}"
        )
        return line + (f"\n    {letter.error}" if letter.error else "")


class _Clients:
    def __init__(self, region: str, endpoint_url: str | None) -> None:
        import boto3

        self.session = boto3.session.Session(region_name=region)
        self.endpoint_url = endpoint_url

    def client(self, service: str) -> Any:
        return self.session.client(service, endpoint_url=self.endpoint_url)


def _is_uuid(value: str) -> bool:
    import uuid

    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True
