"""The two things the API does, as plain functions views and commands share."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

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


def create_upload(
    *, owner: Any, options: UploadOptions, filename: str, content_type: str, size: int
) -> CreatedUpload:
    """Record a pending upload and sign a POST policy for exactly its key."""
    now = timezone.now()
    upload_id = uuid.uuid4()
    post = s3.presigned_post(
        key=f"{upload_settings.TEMP_PREFIX}{upload_id}",
        content_type=content_type,
        max_bytes=options.max_bytes,
        metadata={
            "upload-id": str(upload_id),
            "variants": variants_metadata(options.variants),
            "blur-radius": str(options.blur_radius),
        },
    )
    upload = ImageUpload.objects.create(
        id=upload_id,
        owner=owner if getattr(owner, "is_authenticated", False) else None,
        field_id=options.field_id,
        original_filename=filename,
        content_type=content_type,
        declared_bytes=size,
        requested_variants=options.variants,
        blur_radius=options.blur_radius,
        created_at=now,
        expires_at=now + timedelta(seconds=upload_settings.UPLOAD_EXPIRY),
    )
    return CreatedUpload(upload, post, now + timedelta(seconds=post.expires_in))


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
