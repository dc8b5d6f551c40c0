"""The two things the API does, as plain functions views and commands share."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from django.db import router, transaction
from django.utils import timezone

from async_image_upload import s3
from async_image_upload.conf import upload_settings
from async_image_upload.models import ImageUpload, Status
from async_image_upload.variants import variants_metadata


@dataclass(frozen=True)
class UploadOptions:
    """The effective rules for one upload: a field's options over the settings."""

    field_id: str
    variants: list[str]
    blur_radius: int
    max_bytes: int
    content_types: list[str]

    @classmethod
    def for_field(cls, field: Any | None) -> UploadOptions:
        """``field`` is an AsyncImageField, or None for an upload made for no field."""
        variants = getattr(field, "variants", None)
        blur = getattr(field, "blur", None)
        max_bytes = getattr(field, "max_upload_bytes", None)
        content_types = getattr(field, "allowed_content_types", None)
        blur = upload_settings.BLUR if blur is None else blur
        return cls(
            field_id=field.field_id if field is not None else "",
            variants=list(upload_settings.VARIANTS if variants is None else variants),
            blur_radius=int(upload_settings.BLUR_RADIUS) if blur else 0,
            max_bytes=int(max_bytes or upload_settings.MAX_UPLOAD_BYTES),
            content_types=list(
                upload_settings.ALLOWED_CONTENT_TYPES if content_types is None else content_types
            ),
        )


@dataclass(frozen=True)
class CreatedUpload:
    upload: ImageUpload
    post: s3.PresignedPost
    post_expires_at: datetime


class StorageNotConfigured(Exception):
    """Uploads cannot be signed: no bucket configured, or no AWS credentials to sign with."""


def _presigned_post(**kwargs: Any) -> s3.PresignedPost:
    """``s3.presigned_post``, with a missing bucket or credentials said in words.

    Signing happens locally, so an unreachable S3 does not fail here (the
    client's POST to S3 does); what fails is the configuration.
    """
    from botocore.exceptions import NoCredentialsError, PartialCredentialsError

    if not upload_settings.BUCKET:
        raise StorageNotConfigured(
            "No bucket is configured: set ASYNC_IMAGE_UPLOAD['BUCKET'] "
            "(in tests, use the upload_bucket fixture; see docs/testing.md)."
        )
    try:
        return s3.presigned_post(**kwargs)
    except (NoCredentialsError, PartialCredentialsError) as exc:
        raise StorageNotConfigured(
            f"No AWS credentials to sign uploads with ({exc}): give the server a role or "
            "AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY (in tests, use the upload_bucket "
            "fixture; see docs/testing.md)."
        ) from exc


class PendingCapReached(Exception):
    """The owner already has ``max_pending`` open uploads."""


def create_upload(
    *,
    owner: Any,
    options: UploadOptions,
    filename: str,
    content_type: str,
    size: int,
    max_pending: int | None = None,
) -> CreatedUpload:
    """Record a pending upload and sign a POST policy for exactly its key.

    With ``max_pending``, an authenticated owner who already has that many open
    (pending, unexpired) uploads gets :class:`PendingCapReached` instead. The
    count and the insert run in one transaction holding a lock on the owner's
    row, so concurrent requests take turns and the cap holds on every database
    with row locks (PostgreSQL, MariaDB, MySQL); SQLite serializes writers anyway.
    """
    now = timezone.now()
    upload_id = uuid.uuid4()
    post = _presigned_post(
        key=f"{upload_settings.TEMP_PREFIX}{upload_id}",
        content_type=content_type,
        max_bytes=options.max_bytes,
        metadata={
            "upload-id": str(upload_id),
            "variants": variants_metadata(options.variants),
            "blur-radius": str(options.blur_radius),
        },
    )
    owner = owner if getattr(owner, "is_authenticated", False) else None
    upload = ImageUpload(
        id=upload_id,
        owner=owner,
        field_id=options.field_id,
        original_filename=filename,
        content_type=content_type,
        declared_bytes=size,
        requested_variants=options.variants,
        blur_radius=options.blur_radius,
        created_at=now,
        expires_at=now + timedelta(seconds=upload_settings.UPLOAD_EXPIRY),
    )
    alias = router.db_for_write(ImageUpload)
    if owner is None or max_pending is None:
        upload.save(force_insert=True, using=alias)
    else:
        with transaction.atomic(using=alias):
            _lock_owner(owner, alias)
            pending = ImageUpload.objects.using(alias).open_pending_count(owner, max_pending)
            if pending >= max_pending:
                raise PendingCapReached()
            upload.save(force_insert=True, using=alias)
    return CreatedUpload(upload, post, now + timedelta(seconds=post.expires_in))


def _lock_owner(owner: Any, alias: str) -> None:
    """Hold the owner's row until the transaction ends: their presigns queue here.

    The upload's foreign key puts the owner in the same database. The count after
    it is a new statement, so under READ COMMITTED (PostgreSQL's default) it sees
    every upload committed by whoever held the lock before. Under REPEATABLE READ
    (MariaDB's and MySQL's default) the transaction's snapshot is taken at its
    first plain read, which is that count, after the lock; a project whose
    ``ATOMIC_REQUESTS`` transaction has read before the view runs should give
    that database READ COMMITTED, or the count may miss a concurrent upload.
    """
    # The foreign key's model, not type(owner): a session user is a SimpleLazyObject.
    user_model = ImageUpload._meta.get_field("owner").related_model
    manager = user_model._default_manager.using(alias)
    list(manager.select_for_update().filter(pk=owner.pk).values_list("pk", flat=True))


class CallbackOutcome(StrEnum):
    """What a callback did to its upload; the callback endpoint answers it as ``outcome``."""

    APPLIED = "applied"
    DUPLICATE = "duplicate"


def apply_callback(payload: dict[str, Any]) -> tuple[ImageUpload, str]:
    """Apply a verified, validated callback payload to its upload.

    Raises ``ImageUpload.DoesNotExist`` or ``InvalidTransition``; the view maps
    them to 404 and 409.
    """
    facts = _callback_facts(payload)
    upload = ImageUpload.objects.transition_pending(
        payload["upload_id"], payload["status"], **facts
    )
    if upload is not None:
        return upload, CallbackOutcome.APPLIED
    # Not pending (a duplicate, a late result for an expired upload, a conflict),
    # unknown, or a database without UPDATE … RETURNING: the general path judges it.
    upload = ImageUpload.objects.get(pk=payload["upload_id"])
    changed = upload.transition(payload["status"], **facts)
    return upload, CallbackOutcome.APPLIED if changed else CallbackOutcome.DUPLICATE


def _callback_facts(payload: dict[str, Any]) -> dict[str, Any]:
    """What a callback records on its upload besides the status."""
    source = payload.get("source") or {}
    facts: dict[str, Any] = {
        "source_etag": (source.get("etag") or "")[:128],
        "source_bytes": source.get("bytes"),
    }
    if payload["status"] == Status.READY:
        facts.update(
            source_format=source.get("format") or "",
            source_width=source.get("width"),
            source_height=source.get("height"),
            variants=payload.get("variants") or [],
            placeholder=payload.get("placeholder") or "",
            error_code="",
            error_message="",
        )
    else:
        error = payload.get("error") or {}
        facts.update(
            source_format=source.get("format") or "",
            error_code=error.get("code", ""),
            error_message=error.get("message", ""),
        )
    return facts
