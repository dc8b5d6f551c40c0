"""reconcile_uploads against moto's S3 over HTTP, with manifests the real Lambda wrote."""

from __future__ import annotations

import threading
import uuid
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, connections
from django.utils import timezone

from async_image_upload import ImageUpload, Status
from async_image_upload.reconcile import Action, ReconcileOptions, reconcile

pytestmark = pytest.mark.django_db(transaction=True)
NOW_GRACE = ReconcileOptions(orphan_grace=timedelta(0))


@pytest.fixture(autouse=True)
def _bucket(upload_bucket):
    """Every test talks to a fresh bucket on moto's server, never to AWS."""
    return upload_bucket


def statuses(*uploads: ImageUpload) -> list[str]:
    return [ImageUpload.objects.get(pk=upload.pk).status for upload in uploads]


def keys(bucket, prefix: str = "") -> list[str]:
    listed = bucket.client.list_objects_v2(Bucket=bucket.name, Prefix=prefix)
    return sorted(item["Key"] for item in listed.get("Contents", []))


def test_lost_callbacks_are_finished_from_the_manifest_once(
    make_upload, put_source, run_lambda, signals
) -> None:
    photo, text = make_upload(), make_upload()
    run_lambda(put_source(photo))
    run_lambda(put_source(text, b"not an image at all\n" * 20))
    assert statuses(photo, text) == ["pending", "pending"]  # the callbacks never came

    report = reconcile()

    assert report.subjects(Action.FINISHED_READY) == [str(photo.pk)]
    assert report.subjects(Action.FINISHED_FAILED) == [str(text.pk)]
    photo.refresh_from_db()
    text.refresh_from_db()
    assert photo.status == Status.READY and len(photo.variants) == 8
    assert photo.placeholder.startswith("data:image/")
    assert text.status == Status.FAILED and text.error_code == "unsupported_format"
    assert sorted(signals) == sorted(
        [(str(photo.pk), "pending", "ready"), (str(text.pk), "pending", "failed")]
    )
    # Running again changes nothing and sends nothing.
    again = reconcile()
    assert again.open_checked == 0 and again.findings == []
    assert len(signals) == 2


def test_a_late_manifest_revives_an_expired_upload(make_upload, put_source, run_lambda) -> None:
    upload = make_upload(expires_at=timezone.now() - timedelta(minutes=1))
    upload.transition(Status.EXPIRED)
    run_lambda(put_source(upload))
    assert reconcile().subjects(Action.FINISHED_READY) == [str(upload.pk)]
    assert statuses(upload) == ["ready"]


def test_expired_lookback_limits_the_search(make_upload, put_source, run_lambda) -> None:
    old = make_upload(expires_at=timezone.now() - timedelta(days=30))
    old.transition(Status.EXPIRED)
    run_lambda(put_source(old))
    report = reconcile(ReconcileOptions(lookback=timedelta(days=14)))
    assert report.open_checked == 0
    assert statuses(old) == ["expired"]


def test_never_uploaded_pending_uploads_expire_after_their_expiry(make_upload, signals) -> None:
    overdue = make_upload(expires_at=timezone.now() - timedelta(seconds=1))
    fresh = make_upload()
    report = reconcile()
    assert report.subjects(Action.EXPIRED) == [str(overdue.pk)]
    assert statuses(overdue, fresh) == ["expired", "pending"]
    assert signals == [(str(overdue.pk), "pending", "expired")]
    assert reconcile().subjects(Action.EXPIRED) == []  # expired once, not again


def test_an_uploaded_but_unprocessed_source_is_reported_not_expired(
    make_upload, put_source
) -> None:
    """Its event is in the dead-letter queue; expiring it would hide that from a replay."""
    upload = make_upload(expires_at=timezone.now() - timedelta(seconds=1))
    put_source(upload)
    report = reconcile(NOW_GRACE)
    assert report.subjects(Action.STUCK) == [str(upload.pk)]
    assert statuses(upload) == ["pending"]
    assert (
        "  uploaded, never processed:     1 (see the dead-letter queue)" in report.summary_lines()
    )


def test_dry_run_reports_without_changing_anything(
    make_upload, put_source, run_lambda, upload_bucket, signals
) -> None:
    done = make_upload()
    run_lambda(put_source(done))
    overdue = make_upload(expires_at=timezone.now() - timedelta(seconds=1))
    upload_bucket.client.put_object(Bucket=upload_bucket.name, Key="temp/stray", Body=b"x")
    before = keys(upload_bucket)

    report = reconcile(
        ReconcileOptions(dry_run=True, delete_orphans=True, orphan_grace=timedelta(0))
    )

    assert report.subjects(Action.FINISHED_READY) == [str(done.pk)]
    assert report.subjects(Action.EXPIRED) == [str(overdue.pk)]
    assert report.subjects(Action.ORPHAN_TEMP) == ["temp/stray"]
    assert report.deleted_keys == 1
    assert statuses(done, overdue) == ["pending", "pending"]
    assert keys(upload_bucket) == before
    assert signals == []


def test_orphans_are_reported_then_deleted_only_past_the_grace_period(
    make_upload, put_source, run_lambda, upload_bucket
) -> None:
    kept = make_upload()
    run_lambda(put_source(kept))
    gone = make_upload()
    run_lambda(put_source(gone))
    orphan_source = make_upload()
    put_source(orphan_source)
    ImageUpload.objects.filter(pk__in=[gone.pk, orphan_source.pk]).delete()
    upload_bucket.client.put_object(Bucket=upload_bucket.name, Key="temp/not-an-id", Body=b"x")
    # Not ours: a non-UUID folder under the image prefix is never touched.
    upload_bucket.client.put_object(Bucket=upload_bucket.name, Key="image/logo/a.png", Body=b"x")

    young = reconcile(ReconcileOptions(delete_orphans=True, orphan_grace=timedelta(hours=1)))
    assert young.count(Action.ORPHAN_TEMP) == young.count(Action.ORPHAN_OUTPUT) == 0

    listed = reconcile(NOW_GRACE)
    assert sorted(listed.subjects(Action.ORPHAN_TEMP)) == sorted(
        [f"temp/{orphan_source.pk}", "temp/not-an-id"]
    )
    assert listed.subjects(Action.ORPHAN_OUTPUT) == [f"image/{gone.pk}/"]
    assert f"temp/{orphan_source.pk}" in keys(upload_bucket, "temp/")

    deleted = reconcile(ReconcileOptions(delete_orphans=True, orphan_grace=timedelta(0)))
    assert deleted.deleted_keys == 2 + 10  # two temp objects, eight variants, manifest, claim
    assert keys(upload_bucket, "temp/") == []
    assert keys(upload_bucket, f"image/{gone.pk}/") == []
    assert len(keys(upload_bucket, f"image/{kept.pk}/")) == 10  # eight variants, manifest, claim
    assert keys(upload_bucket, "image/logo/") == ["image/logo/a.png"]
    assert deleted.errors == []


def test_a_uuid_folder_that_is_not_the_lambdas_is_never_deleted(upload_bucket) -> None:
    """Another app sharing the prefix may use UUID folder names too (upload_to=uuid4)."""
    folder = f"image/{uuid.uuid4()}/"
    for name in ("400x400.jpg", "holiday.pdf"):
        upload_bucket.client.put_object(Bucket=upload_bucket.name, Key=folder + name, Body=b"x")
    report = reconcile(ReconcileOptions(delete_orphans=True, orphan_grace=timedelta(0)))
    assert report.count(Action.ORPHAN_OUTPUT) == 0
    assert sorted(keys(upload_bucket, folder)) == [folder + "400x400.jpg", folder + "holiday.pdf"]
    assert report.subjects(Action.NOT_OURS) == [folder]
    assert report.errors == []


def test_concurrent_runs_make_one_transition_per_upload(
    make_upload, put_source, run_lambda, upload_bucket, signals
) -> None:
    """Three cron hosts at once: one signal per upload, deletes that do not trip over each other."""
    if connection.vendor == "sqlite":
        pytest.skip(
            "An in-memory SQLite database is not shared between threads; runs on PostgreSQL."
        )
    finished = [make_upload() for _ in range(4)]
    for upload in finished:
        run_lambda(put_source(upload))
    overdue = [make_upload(expires_at=timezone.now() - timedelta(seconds=1)) for _ in range(3)]
    orphan = make_upload()
    put_source(orphan)
    orphan.delete()
    barrier = threading.Barrier(3)
    reports = []

    def run() -> None:
        try:
            barrier.wait()
            reports.append(
                reconcile(ReconcileOptions(delete_orphans=True, orphan_grace=timedelta(0)))
            )
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert len(reports) == 3 and all(report.errors == [] for report in reports)
    assert sorted(signals) == sorted(
        [(str(u.pk), "pending", "ready") for u in finished]
        + [(str(u.pk), "pending", "expired") for u in overdue]
    )
    assert sum(report.count(Action.FINISHED_READY) for report in reports) == 4
    assert sum(report.count(Action.EXPIRED) for report in reports) == 3
    assert keys(upload_bucket, "temp/") == []


def test_command_prints_a_summary_and_exits_zero(make_upload, capsys) -> None:
    make_upload(expires_at=timezone.now() - timedelta(seconds=1))
    call_command("reconcile_uploads", "--orphan-grace", "0")
    out = capsys.readouterr().out
    assert "Checked 1 open uploads." in out
    assert "expired (never uploaded):      1" in out
    assert "errors:                        0" in out


def test_command_exit_codes_for_cron(make_upload, upload_bucket, settings, capsys) -> None:
    broken = make_upload()
    upload_bucket.client.put_object(
        Bucket=upload_bucket.name, Key=f"image/{broken.pk}/manifest.json", Body=b"{not json"
    )
    with pytest.raises(CommandError) as failed:
        call_command("reconcile_uploads")
    assert failed.value.returncode == 1
    assert f"error: {broken.pk}: cannot read manifest" in capsys.readouterr().err
    assert statuses(broken) == ["pending"]

    settings.ASYNC_IMAGE_UPLOAD = {**settings.ASYNC_IMAGE_UPLOAD, "BUCKET": None}
    with pytest.raises(CommandError, match="No bucket configured") as unusable:
        call_command("reconcile_uploads")
    assert unusable.value.returncode == 2


def test_a_manifest_for_another_upload_is_refused(
    make_upload, put_source, run_lambda, upload_bucket
) -> None:
    """A copied manifest must not finish a different upload with someone else's images."""
    victim, other = make_upload(), make_upload()
    run_lambda(put_source(other))
    manifest = upload_bucket.client.get_object(
        Bucket=upload_bucket.name, Key=f"image/{other.pk}/manifest.json"
    )["Body"].read()
    upload_bucket.client.put_object(
        Bucket=upload_bucket.name, Key=f"image/{victim.pk}/manifest.json", Body=manifest
    )
    report = reconcile()
    assert [error.subject for error in report.errors] == [str(victim.pk)]
    assert statuses(victim, other) == ["pending", "ready"]


def test_json_output(make_upload, capsys) -> None:
    import json

    make_upload(expires_at=timezone.now() - timedelta(seconds=1))
    call_command("reconcile_uploads", "--json", "--dry-run")
    data = json.loads(capsys.readouterr().out)
    assert data["dry_run"] is True and data["counts"]["expired"] == 1
