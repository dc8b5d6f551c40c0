"""The hand-built statements on the presign and callback paths (``_hot_sql``).

Each is checked against what the ORM says about the same rows, on the
database the run uses (SQLite by default, PostgreSQL and MariaDB in CI's other
tiers), and the callback is checked once more with ``UPDATE … RETURNING``
switched off, so the two-statement path stays correct too. MariaDB has no
``UPDATE … RETURNING``: there the one-statement tests are skipped and the
callback takes the two-statement path for real.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import pytest
from django.db import connection
from django.utils import timezone

from async_image_upload import ImageUpload, Status, upload_status_changed
from async_image_upload._hot_sql import supports_update_returning
from async_image_upload.services import CallbackOutcome, apply_callback
from async_image_upload.testing import callback_payload

pytestmark = pytest.mark.django_db

#: The tests of ``transition_pending`` itself need a database that returns rows
#: from an UPDATE; on the others it always answers None (the caller falls back).
needs_update_returning = pytest.mark.skipif(
    not supports_update_returning("default"),
    reason="this database has no UPDATE … RETURNING (MariaDB/MySQL): two-statement path",
)

READY_FACTS = {
    "source_format": "JPEG",
    "source_width": 4000,
    "source_height": 3000,
    "source_bytes": 5_099_473,
    "source_etag": '"0123456789abcdef"',
    "variants": [{"name": "50x50", "width": 50, "height": 38, "blurred": False}],
    "placeholder": "data:image/webp;base64,UklGRh4A",
    "error_code": "",
    "error_message": "",
}


@pytest.fixture
def received():
    events = []

    def receiver(sender, upload, previous_status, status, **kwargs):
        events.append((upload.pk, previous_status, status, upload.source_width))

    upload_status_changed.connect(receiver)
    yield events
    upload_status_changed.disconnect(receiver)


def test_update_returning_is_used_where_the_database_has_it() -> None:
    """SQLite and PostgreSQL take the one-statement path; MySQL-family never do."""
    vendor = connection.vendor
    assert supports_update_returning("default") == (vendor in {"sqlite", "postgresql"})


def test_transition_pending_declines_without_update_returning(make_upload, monkeypatch) -> None:
    """Where the database cannot return rows from an update, the row is untouched."""
    monkeypatch.setattr("async_image_upload.models.supports_update_returning", lambda alias: False)
    upload = make_upload()
    assert ImageUpload.objects.transition_pending(upload.pk, Status.READY, **READY_FACTS) is None
    assert ImageUpload.objects.get(pk=upload.pk).status == Status.PENDING


@needs_update_returning
def test_transition_pending_moves_and_returns_the_whole_row(
    make_upload, received, django_capture_on_commit_callbacks
) -> None:
    upload = make_upload()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        moved = ImageUpload.objects.transition_pending(upload.pk, Status.READY, **READY_FACTS)
        assert received == []  # not before commit
    assert len(callbacks) == 1
    assert received == [(upload.pk, "pending", "ready", 4000)]

    stored = ImageUpload.objects.get(pk=upload.pk)
    for name in [f.attname for f in ImageUpload._meta.concrete_fields]:
        assert getattr(moved, name) == getattr(stored, name), name
    # Converted like any ORM read: a list back from JSON, aware datetimes, a UUID.
    assert moved.variants == READY_FACTS["variants"]
    assert isinstance(moved.pk, uuid.UUID)
    assert isinstance(moved.completed_at, datetime)
    assert timezone.is_aware(moved.completed_at)
    assert moved.owner_id == upload.owner_id
    assert moved.requested_variants == upload.requested_variants


@pytest.mark.parametrize("current", [Status.READY, Status.FAILED, Status.EXPIRED])
def test_transition_pending_leaves_other_rows_alone(
    make_upload, received, django_capture_on_commit_callbacks, current
) -> None:
    upload = make_upload(status=current)
    with django_capture_on_commit_callbacks(execute=True):
        assert ImageUpload.objects.transition_pending(upload.pk, Status.READY) is None
    assert received == []
    assert ImageUpload.objects.get(pk=upload.pk).status == current


@needs_update_returning
def test_transition_pending_unknown_id_and_non_moves(make_upload) -> None:
    upload = make_upload()
    assert ImageUpload.objects.transition_pending(uuid.uuid4(), Status.READY) is None
    # pending -> pending is not a move; the general path calls it a duplicate.
    assert ImageUpload.objects.transition_pending(upload.pk, Status.PENDING) is None
    with pytest.raises(TypeError, match="Unknown upload facts"):
        ImageUpload.objects.transition_pending(upload.pk, Status.READY, owner_id=None)
    assert ImageUpload.objects.get(pk=upload.pk).status == Status.PENDING


@pytest.mark.parametrize("returning", [True, False], ids=["update-returning", "two-statements"])
def test_callback_outcomes_on_either_path(
    monkeypatch, make_upload, received, django_capture_on_commit_callbacks, returning
) -> None:
    if not returning:
        monkeypatch.setattr(
            "async_image_upload.models.supports_update_returning", lambda alias: False
        )
    upload = make_upload()
    with django_capture_on_commit_callbacks(execute=True):
        first, outcome = apply_callback(callback_payload(upload))
        again, second = apply_callback(callback_payload(upload))
    assert (outcome, second) == (CallbackOutcome.APPLIED, CallbackOutcome.DUPLICATE)
    assert first.status == again.status == Status.READY
    assert received == [(upload.pk, "pending", "ready", 4000)]

    late = make_upload(status=Status.EXPIRED)
    with django_capture_on_commit_callbacks(execute=True):
        finished, outcome = apply_callback(callback_payload(late, "failed"))
    assert outcome == CallbackOutcome.APPLIED
    assert finished.status == Status.FAILED
    assert received[-1] == (late.pk, "expired", "failed", None)

    with pytest.raises(ImageUpload.DoesNotExist):
        apply_callback(callback_payload(ImageUpload(id=uuid.uuid4(), declared_bytes=1)))


def test_open_pending_count_matches_the_orm(make_upload, user, other_user) -> None:
    now = timezone.now()
    for _ in range(3):
        make_upload()
    make_upload(expires_at=now - timedelta(seconds=1))  # past its expiry
    make_upload(status=Status.READY)
    make_upload(status=Status.EXPIRED)
    make_upload(owner=other_user)
    make_upload(owner=None)

    orm = ImageUpload.objects.filter(owner=user).open_pending().count()
    assert orm == 3
    assert ImageUpload.objects.open_pending_count(user, limit=20) == orm
    assert ImageUpload.objects.open_pending_count(other_user, limit=20) == 1
    # Counting stops at the limit: a cap check never reads more rows than the cap.
    assert ImageUpload.objects.open_pending_count(user, limit=2) == 2
