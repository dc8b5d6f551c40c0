"""Finish what a lost callback left open, expire what never arrived, find orphans.

Why this exists: the Lambda writes its manifest (the exact callback body) to S3
*before* it calls Django. If the endpoint stays down longer than every retry,
the event ends in the dead-letter queue but the result is already in the
bucket. Applying that manifest through :func:`~async_image_upload.services.apply_callback`
— the function the callback view uses — finishes the upload with the same
single compare-and-swap transition and the same single signal.

Everything here is idempotent, so the command can run from cron on several
hosts at once: transitions are compare-and-swaps, S3 deletes name exact keys
(deleting a key twice is not an error), and orphans must be older than a grace
period before they are touched.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from django.db.models import Q
from django.utils import timezone

from async_image_upload import s3
from async_image_upload.conf import upload_settings
from async_image_upload.models import ImageUpload, InvalidTransition, Status

MANIFEST_NAME = "manifest.json"
#: The Lambda's one-processing-per-key claim, written before the outputs.
CLAIM_NAME = "claim.json"
MANIFEST_VERSION = 1
#: Rows read (and manifests fetched in parallel) per round trip.
BATCH_SIZE = 200
#: S3 DeleteObjects takes at most 1000 keys per call.
DELETE_BATCH = 1000
#: Parallel manifest reads; S3 latency, not CPU, bounds a reconcile run.
FETCH_THREADS = 8
_S3_ERRORS = (ClientError, BotoCoreError)
_MISSING = {"404", "NoSuchKey", "NotFound"}


class Action(StrEnum):
    """What reconcile did (or, in a dry run, would do) to one upload or key."""

    FINISHED_READY = "finished_ready"
    FINISHED_FAILED = "finished_failed"
    ALREADY_FINAL = "already_final"
    EXPIRED = "expired"
    STUCK = "stuck"
    ORPHAN_TEMP = "orphan_temp"
    ORPHAN_OUTPUT = "orphan_output"
    #: A UUID folder under IMAGE_PREFIX holding files the Lambda never writes.
    NOT_OURS = "not_ours"
    ERROR = "error"


@dataclass(frozen=True)
class Finding:
    action: Action
    subject: str
    detail: str = ""


@dataclass
class ReconcileReport:
    """Counts for the summary; the individual findings for ``-v 2`` and tests."""

    dry_run: bool
    delete_orphans: bool
    open_checked: int = 0
    findings: list[Finding] = field(default_factory=list)
    deleted_keys: int = 0

    def add(self, action: Action, subject: str, detail: str = "") -> None:
        self.findings.append(Finding(action, subject, detail))

    def count(self, action: Action) -> int:
        return sum(1 for finding in self.findings if finding.action == action)

    def subjects(self, action: Action) -> list[str]:
        return [finding.subject for finding in self.findings if finding.action == action]

    @property
    def errors(self) -> list[Finding]:
        return [finding for finding in self.findings if finding.action == Action.ERROR]

    @property
    def changed_anything(self) -> bool:
        return any(
            finding.action not in (Action.ERROR, Action.STUCK, Action.NOT_OURS)
            for finding in self.findings
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "dry_run": self.dry_run,
            "open_checked": self.open_checked,
            "counts": {action: self.count(action) for action in Action},
            "deleted_keys": self.deleted_keys,
            "findings": [vars(finding) for finding in self.findings],
        }

    def summary_lines(self) -> list[str]:
        """The cron mail: one line per kind of finding, all of them always present."""
        header = f"Checked {self.open_checked} open uploads."
        if self.dry_run:
            header += " Dry run: nothing was changed; the counts say what would be."
        lines = [
            header,
            f"  finished from manifest:        {self.count(Action.FINISHED_READY)} ready, "
            f"{self.count(Action.FINISHED_FAILED)} failed",
            f"  finished meanwhile by others:  {self.count(Action.ALREADY_FINAL)}",
            f"  expired (never uploaded):      {self.count(Action.EXPIRED)}",
            f"  uploaded, never processed:     {self.count(Action.STUCK)}"
            + (" (see the dead-letter queue)" if self.count(Action.STUCK) else ""),
            f"  orphaned temp objects:         {self.count(Action.ORPHAN_TEMP)}",
            f"  orphaned output prefixes:      {self.count(Action.ORPHAN_OUTPUT)}",
            f"  foreign UUID folders (kept):   {self.count(Action.NOT_OURS)}",
        ]
        if self.count(Action.ORPHAN_TEMP) or self.count(Action.ORPHAN_OUTPUT):
            kept = "kept (--delete-orphans removes them)"
            lines.append(
                f"  orphan objects deleted:        {self.deleted_keys}"
                if self.delete_orphans
                else f"  orphan objects:                {kept}"
            )
        lines.append(f"  errors:                        {len(self.errors)}")
        return lines


@dataclass(frozen=True)
class ReconcileOptions:
    """What a run may do. The defaults are the safe ones."""

    dry_run: bool = False
    delete_orphans: bool = False
    #: Orphans younger than this are left alone: a row and its key may be in flight.
    orphan_grace: timedelta = timedelta(hours=1)
    #: Expired uploads older than this are no longer searched for a late manifest
    #: (the deployed dead-letter queue keeps events 14 days).
    lookback: timedelta = timedelta(days=14)


@dataclass(frozen=True)
class _Listed:
    key: str
    last_modified: datetime


def reconcile(
    options: ReconcileOptions | None = None,
    *,
    client: Any = None,
    bucket: str | None = None,
    now: datetime | None = None,
) -> ReconcileReport:
    """One full pass: open uploads first, then the orphan sweep."""
    options = options or ReconcileOptions()
    client = client or s3.api_client()
    bucket = bucket or upload_settings.BUCKET
    now = now or timezone.now()
    report = ReconcileReport(dry_run=options.dry_run, delete_orphans=options.delete_orphans)
    try:
        temp_objects = _list_temp(client, bucket)
    except _S3_ERRORS as exc:
        report.add(Action.ERROR, upload_settings.TEMP_PREFIX, f"cannot list: {exc}")
        return report
    _finish_open_uploads(report, options, client, bucket, now, temp_objects)
    _sweep_temp_orphans(report, options, client, bucket, now, temp_objects)
    _sweep_output_orphans(report, options, client, bucket, now)
    return report


# -- open uploads ---------------------------------------------------------------


def _finish_open_uploads(
    report: ReconcileReport,
    options: ReconcileOptions,
    client: Any,
    bucket: str,
    now: datetime,
    temp_objects: dict[str, _Listed],
) -> None:
    # Ids first, rows per batch: no cursor stays open while rows change under it.
    open_ids = list(
        ImageUpload.objects.filter(
            Q(status=Status.PENDING)
            | Q(status=Status.EXPIRED, expires_at__gte=now - options.lookback)
        )
        .order_by("created_at")
        .values_list("pk", flat=True)
    )
    with ThreadPoolExecutor(FETCH_THREADS, thread_name_prefix="aiu-reconcile") as pool:
        for ids in _chunks(open_ids, BATCH_SIZE):
            batch = list(ImageUpload.objects.filter(pk__in=ids).order_by("created_at"))
            manifests = pool.map(lambda upload: _read_manifest(client, bucket, upload.pk), batch)
            for upload, manifest in zip(batch, manifests, strict=True):
                report.open_checked += 1
                _settle(report, options, upload, manifest, now, temp_objects)


def _settle(
    report: ReconcileReport,
    options: ReconcileOptions,
    upload: ImageUpload,
    manifest: dict[str, Any] | Exception | None,
    now: datetime,
    temp_objects: dict[str, _Listed],
) -> None:
    upload_id = str(upload.pk)
    if isinstance(manifest, Exception):
        report.add(Action.ERROR, upload_id, f"cannot read manifest: {manifest}")
        return
    if manifest is not None:
        _apply_manifest(report, options, upload_id, manifest)
        return
    source = temp_objects.get(upload_id)
    if source is not None:
        if source.last_modified <= now - options.orphan_grace:
            # The Lambda never got through (its event is in the dead-letter queue);
            # the upload stays open so a replay can still finish it.
            report.add(Action.STUCK, upload_id, f"source {source.key} has no manifest")
        return
    if upload.status == Status.PENDING and upload.expires_at <= now:
        if options.dry_run:
            report.add(Action.EXPIRED, upload_id)
            return
        try:
            changed = upload.transition(Status.EXPIRED)
        except InvalidTransition as exc:  # the callback finished it since we looked
            report.add(Action.ALREADY_FINAL, upload_id, str(exc))
            return
        except ImageUpload.DoesNotExist:
            return
        report.add(Action.EXPIRED if changed else Action.ALREADY_FINAL, upload_id)


def _apply_manifest(
    report: ReconcileReport, options: ReconcileOptions, upload_id: str, manifest: dict[str, Any]
) -> None:
    from rest_framework.exceptions import ValidationError

    from async_image_upload.api.callback import parse_callback
    from async_image_upload.services import CallbackOutcome, apply_callback

    payload = manifest.get("callback")
    if manifest.get("version") != MANIFEST_VERSION or not isinstance(payload, dict):
        report.add(Action.ERROR, upload_id, "manifest has an unknown version or no callback")
        return
    # The same validation the callback view applies: a manifest is only as
    # trustworthy as the bucket, and must describe this upload's own keys.
    try:
        validated = parse_callback(payload)
    except ValidationError as exc:
        report.add(Action.ERROR, upload_id, f"manifest is not a valid callback: {exc.detail}")
        return
    if validated["upload_id"] != upload_id:
        report.add(Action.ERROR, upload_id, "manifest describes another upload")
        return
    status = validated["status"]
    finished = Action.FINISHED_READY if status == Status.READY else Action.FINISHED_FAILED
    if options.dry_run:
        report.add(finished, upload_id)
        return
    try:
        _upload, outcome = apply_callback(validated)
    except InvalidTransition as exc:
        report.add(Action.ALREADY_FINAL, upload_id, str(exc))
        return
    except ImageUpload.DoesNotExist:
        return
    report.add(finished if outcome == CallbackOutcome.APPLIED else Action.ALREADY_FINAL, upload_id)


def _read_manifest(client: Any, bucket: str, upload_id: Any) -> dict[str, Any] | Exception | None:
    """The manifest, None if absent, or the error (returned, so one bad key stops nothing)."""
    key = f"{upload_settings.IMAGE_PREFIX}{upload_id}/{MANIFEST_NAME}"
    try:
        body = client.get_object(Bucket=bucket, Key=key)["Body"].read()
    except ClientError as exc:
        if str(exc.response.get("Error", {}).get("Code")) in _MISSING:
            return None
        return exc
    except BotoCoreError as exc:
        return exc
    try:
        manifest = json.loads(body)
    except ValueError as exc:
        return ValueError(f"{key} is not JSON: {exc}")
    return manifest if isinstance(manifest, dict) else ValueError(f"{key} is not an object")


# -- orphans --------------------------------------------------------------------


def _list_temp(client: Any, bucket: str) -> dict[str, _Listed]:
    """Every object under TEMP_PREFIX, by the part of its key after the prefix."""
    prefix = upload_settings.TEMP_PREFIX
    return {
        item.key[len(prefix) :]: item
        for item in _list(client, bucket, prefix)
        if item.key != prefix
    }


def _sweep_temp_orphans(
    report: ReconcileReport,
    options: ReconcileOptions,
    client: Any,
    bucket: str,
    now: datetime,
    temp_objects: dict[str, _Listed],
) -> None:
    cutoff = now - options.orphan_grace
    old = {name: item for name, item in temp_objects.items() if item.last_modified <= cutoff}
    orphans = [old[name].key for name in sorted(_without_rows(old))]
    for key in orphans:
        report.add(Action.ORPHAN_TEMP, key)
    _delete(report, options, client, bucket, orphans)


def _sweep_output_orphans(
    report: ReconcileReport,
    options: ReconcileOptions,
    client: Any,
    bucket: str,
    now: datetime,
) -> None:
    prefix = upload_settings.IMAGE_PREFIX
    try:
        names = [
            common["Prefix"][len(prefix) :].rstrip("/")
            for page in client.get_paginator("list_objects_v2").paginate(
                Bucket=bucket, Prefix=prefix, Delimiter="/"
            )
            for common in page.get("CommonPrefixes", [])
        ]
        # Only the Lambda's own UUID folders: anything else under the prefix is not ours.
        candidates = sorted(_without_rows({name: None for name in names if _is_uuid(name)}))
        cutoff = now - options.orphan_grace
        for name in candidates:
            folder = f"{prefix}{name}/"
            objects = list(_list(client, bucket, folder))
            if not objects or max(item.last_modified for item in objects) > cutoff:
                continue
            if not all(is_lambda_output(item.key[len(folder) :]) for item in objects):
                # A UUID folder holding anything the Lambda never writes belongs to
                # someone else sharing the prefix: report it, never delete it.
                report.add(Action.NOT_OURS, folder, "not the Lambda's outputs; left alone")
                continue
            report.add(Action.ORPHAN_OUTPUT, folder, f"{len(objects)} objects")
            _delete(report, options, client, bucket, [item.key for item in objects])
    except _S3_ERRORS as exc:
        report.add(Action.ERROR, prefix, f"cannot list: {exc}")


#: Extensions of the files the bundled Lambda writes: twin of
#: ``lambda_function/outputs.py``'s FILE_EXTENSIONS (tests/test_contract.py keeps them
#: equal; the app cannot import the Lambda's package).
LAMBDA_FILE_EXTENSIONS = ("jpg", "png", "webp", "avif", "gif", "heic")
#: The only names the bundled Lambda writes in an upload's folder.
_LAMBDA_OUTPUT = re.compile(
    rf"^(?:(?:\d+x\d+|original)(?:_blur)?\.(?:{'|'.join(LAMBDA_FILE_EXTENSIONS)})"
    rf"|{re.escape(MANIFEST_NAME)}|{re.escape(CLAIM_NAME)})\Z"
)


def is_lambda_output(name: str) -> bool:
    """Whether ``name`` (relative to an upload's folder) is a file the Lambda writes."""
    return bool(_LAMBDA_OUTPUT.match(name))


def _without_rows(by_name: dict[str, Any]) -> set[str]:
    """Names that are no upload id, or whose upload row does not exist."""
    ids = {name: uuid.UUID(name) for name in by_name if _is_uuid(name)}
    missing = set(by_name) - set(ids)
    for batch in _chunks(list(ids.items()), BATCH_SIZE):
        existing = set(
            ImageUpload.objects.filter(pk__in=[pk for _name, pk in batch]).values_list(
                "pk", flat=True
            )
        )
        missing.update(name for name, pk in batch if pk not in existing)
    return missing


def _delete(
    report: ReconcileReport, options: ReconcileOptions, client: Any, bucket: str, keys: list[str]
) -> None:
    if not options.delete_orphans or not keys:
        return
    if options.dry_run:
        report.deleted_keys += len(keys)
        return
    for batch in _chunks(keys, DELETE_BATCH):
        try:
            response = client.delete_objects(
                Bucket=bucket,
                Delete={"Objects": [{"Key": key} for key in batch], "Quiet": True},
            )
        except _S3_ERRORS as exc:
            report.add(Action.ERROR, batch[0], f"cannot delete {len(batch)} objects: {exc}")
            continue
        failed = response.get("Errors", [])
        for error in failed:
            report.add(Action.ERROR, error.get("Key", "?"), f"not deleted: {error.get('Code')}")
        report.deleted_keys += len(batch) - len(failed)


# -- helpers --------------------------------------------------------------------


def _list(client: Any, bucket: str, prefix: str) -> Iterator[_Listed]:
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for item in page.get("Contents", []):
            yield _Listed(item["Key"], item["LastModified"])


def _is_uuid(name: str) -> bool:
    try:
        return str(uuid.UUID(name)) == name
    except ValueError:
        return False


def _chunks(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    batch: list[Any] = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch
