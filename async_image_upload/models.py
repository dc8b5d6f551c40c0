"""The upload record and its state machine."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import models, router, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from async_image_upload._hot_sql import count_up_to, supports_update_returning, update_returning
from async_image_upload.conf import upload_settings
from async_image_upload.signals import upload_status_changed
from async_image_upload.values import AsyncImage


class Status(models.TextChoices):
    PENDING = "pending", _("Pending")
    READY = "ready", _("Ready")
    FAILED = "failed", _("Failed")
    EXPIRED = "expired", _("Expired")


#: Legal moves. ``expired`` may still become ready or failed: a late Lambda
#: result is better news than a timeout, and losing it would lose the photo.
TRANSITIONS: dict[str, frozenset[str]] = {
    Status.PENDING: frozenset({Status.READY, Status.FAILED, Status.EXPIRED}),
    Status.EXPIRED: frozenset({Status.READY, Status.FAILED}),
    Status.READY: frozenset(),
    Status.FAILED: frozenset(),
}
FINAL_STATUSES = frozenset({Status.READY, Status.FAILED})

#: Facts ``transition`` may record along with the status.
TRANSITION_FACTS = frozenset(
    {
        "source_format",
        "source_width",
        "source_height",
        "source_bytes",
        "source_etag",
        "variants",
        "placeholder",
        "error_code",
        "error_message",
    }
)


class InvalidTransition(Exception):
    """A status change the state machine forbids (for example ``ready`` → ``failed``)."""

    def __init__(self, upload_id: Any, current: str, requested: str) -> None:
        super().__init__(f"Upload {upload_id} is {current}; it cannot become {requested}.")
        self.current = current
        self.requested = requested


class ImageUploadQuerySet(models.QuerySet["ImageUpload"]):
    def owned_by(self, user: Any) -> ImageUploadQuerySet:
        if not getattr(user, "is_authenticated", False):
            return self.none()
        return self.filter(owner=user)

    def open_pending(self) -> ImageUploadQuerySet:
        return self.filter(status=Status.PENDING, expires_at__gt=timezone.now())

    def open_pending_count(self, owner: Any, limit: int) -> int:
        """``owner``'s unexpired pending uploads, counted up to ``limit``.

        ``filter(owner=owner).open_pending().count()`` in one hand-built statement
        (see ``_hot_sql``): every presign runs it for the pending cap, and the
        ORM spent longer compiling the count than the database spent on it.
        """
        return count_up_to(
            self.model,
            alias=self.db,
            where=[
                ("owner", "=", owner.pk),
                ("status", "=", Status.PENDING),
                ("expires_at", ">", timezone.now()),
            ],
            limit=limit,
        )

    def transition_pending(self, upload_id: Any, to: str, **facts: Any) -> ImageUpload | None:
        """Move a ``pending`` upload to ``to`` in one statement; None if it is not pending.

        The callback's fast path: almost every result finds its upload pending,
        and ``UPDATE … WHERE status = 'pending' RETURNING *`` both makes the move
        and reads the row the signal carries, in one round trip instead of a
        read and a write. None means "not applied here" — the row is missing, no
        longer pending, or the database cannot return rows from an update — and
        the caller falls back to :meth:`ImageUpload.transition`, which judges
        every case. Sends ``upload_status_changed`` after commit, like it.
        """
        to = Status(to)
        alias = router.db_for_write(self.model)
        if to not in TRANSITIONS[Status.PENDING] or not supports_update_returning(alias):
            return None
        changes = ImageUpload.transition_changes(to, facts)
        upload = update_returning(
            self.model,
            alias=alias,
            where={"pk": upload_id, "status": Status.PENDING},
            changes=changes,
        )
        if upload is None:
            return None
        transaction.on_commit(
            lambda: upload._send_changed(Status.PENDING, upload.status), using=alias
        )
        return upload


class ImageUpload(models.Model):
    """One photo on its way from a client through S3 and the Lambda.

    Rows are created by the presign endpoint; status changes only through
    :meth:`transition`.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="image_uploads",
    )
    field_id = models.CharField(
        _("field"),
        max_length=255,
        blank=True,
        db_index=True,
        help_text=_("The AsyncImageField this upload is for, as app_label.Model.field."),
    )
    status = models.CharField(
        max_length=16, choices=Status.choices, default=Status.PENDING, db_index=True
    )
    # What the client declared when it asked to upload. The filename is kept for
    # people, never used for a key.
    original_filename = models.CharField(max_length=255, blank=True)
    content_type = models.CharField(max_length=100)
    declared_bytes = models.PositiveBigIntegerField()
    # What was asked of the Lambda.
    requested_variants = models.JSONField(default=list)
    blur_radius = models.PositiveSmallIntegerField(default=0)
    # What the Lambda found and made.
    source_format = models.CharField(max_length=16, blank=True)
    source_width = models.PositiveIntegerField(null=True, blank=True)
    source_height = models.PositiveIntegerField(null=True, blank=True)
    source_bytes = models.PositiveBigIntegerField(null=True, blank=True)
    source_etag = models.CharField(max_length=128, blank=True)
    variants = models.JSONField(default=list, blank=True)
    placeholder = models.TextField(blank=True)
    error_code = models.CharField(max_length=64, blank=True)
    error_message = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)
    expires_at = models.DateTimeField(db_index=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    objects = ImageUploadQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("image upload")
        verbose_name_plural = _("image uploads")
        indexes = [models.Index(fields=["owner", "status"], name="aiu_owner_status_idx")]

    def __str__(self) -> str:
        return f"{self.original_filename or self.pk} ({self.status})"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.expires_at is None:
            self.expires_at = self.created_at + timedelta(seconds=upload_settings.UPLOAD_EXPIRY)
        super().save(*args, **kwargs)

    @property
    def temp_key(self) -> str:
        return f"{upload_settings.TEMP_PREFIX}{self.pk}"

    @property
    def image_prefix(self) -> str:
        return f"{upload_settings.IMAGE_PREFIX}{self.pk}/"

    @property
    def is_ready(self) -> bool:
        return self.status == Status.READY

    @property
    def is_final(self) -> bool:
        return self.status in FINAL_STATUSES

    def as_image(self) -> AsyncImage:
        """This upload as the :class:`~async_image_upload.values.AsyncImage` value object."""
        return AsyncImage(self.pk, upload=self)

    def transition(self, to: str, **facts: Any) -> bool:
        """Move to ``to`` once, recording ``facts``; return False for a duplicate.

        The move is one compare-and-swap ``UPDATE … WHERE status = <what this
        instance last saw>``: no lock, no savepoint, and two identical callbacks
        racing on any database make exactly one change. When the swap misses, the
        row is re-read and the move re-judged. The ``upload_status_changed`` signal
        is sent after the surrounding transaction commits (at once in autocommit).
        Raises :class:`InvalidTransition` for a move the state machine forbids.
        """
        to = Status(to)
        changes = self.transition_changes(to, facts)
        current, fresh = self.status, False
        for _attempt in range(3):
            # Only the database may call a move a duplicate or refuse it.
            if not fresh and (current == to or to not in TRANSITIONS[current]):
                self.refresh_from_db(fields=["status"])
                current, fresh = self.status, True
                continue
            if current == to:
                return False
            if to not in TRANSITIONS[current]:
                raise InvalidTransition(self.pk, current, to)
            if type(self).objects.filter(pk=self.pk, status=current).update(**changes):
                for name, value in changes.items():
                    setattr(self, name, value)
                transaction.on_commit(lambda previous=current: self._send_changed(previous, to))
                return True
            # Someone moved the row since this instance was read: look again.
            self.refresh_from_db(fields=["status"])
            current, fresh = self.status, True
        # Three lost races in a row: someone else keeps changing the row.
        raise InvalidTransition(self.pk, current, to)

    @staticmethod
    def transition_changes(to: Status, facts: dict[str, Any]) -> dict[str, Any]:
        """The columns a move to ``to`` writes: the status, its timestamps and ``facts``."""
        unknown = set(facts) - TRANSITION_FACTS
        if unknown:
            raise TypeError(f"Unknown upload facts: {', '.join(sorted(unknown))}")
        now = timezone.now()
        changes: dict[str, Any] = {"status": to, "updated_at": now, **facts}
        if to in FINAL_STATUSES:
            changes["completed_at"] = now
        return changes

    def _send_changed(self, previous: str, status: str) -> None:
        upload_status_changed.send(
            sender=type(self), upload=self, previous_status=previous, status=status
        )


class AttachedUploadEvent(models.Model):
    """Bookkeeping for ``attached_upload_finished``: one row per event sent.

    The unique constraint is what makes the event exactly-once: the upload's
    callback and a ``save()`` that attaches it may both see the pair finished
    (see ``async_image_upload.attached``); only the one whose insert wins sends.
    """

    upload = models.ForeignKey(ImageUpload, on_delete=models.CASCADE, related_name="+")
    field_id = models.CharField(max_length=255)
    object_pk = models.CharField(max_length=255)
    sent_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("attached upload event")
        constraints = [
            models.UniqueConstraint(
                fields=["upload", "field_id", "object_pk"], name="aiu_attached_event_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.field_id} #{self.object_pk} ← {self.upload_id}"
