"""Keep users' rows consistent with their uploads: deletes, and the attached-upload event."""

from __future__ import annotations

from typing import Any

from django.db import models
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from async_image_upload.models import ImageUpload
from async_image_upload.signals import upload_status_changed


@receiver(post_delete, sender=ImageUpload, dispatch_uid="async_image_upload.clear_field")
def clear_field_on_delete(sender: type, instance: ImageUpload, **kwargs: Any) -> None:
    """Null the field that pointed at a deleted upload (it is a UUID, not a ForeignKey)."""
    from async_image_upload.fields import get_async_image_field

    if not instance.field_id:
        return
    try:
        field = get_async_image_field(instance.field_id)
    except LookupError:
        return
    if field.null:
        field.model._default_manager.filter(**{field.attname: instance.pk}).update(
            **{field.attname: None}
        )


@receiver(
    upload_status_changed, sender=ImageUpload, dispatch_uid="async_image_upload.attached_finished"
)
def attached_upload_finished_on_change(
    sender: type, upload: ImageUpload, status: str, **kwargs: Any
) -> None:
    """An upload finished (this runs after commit): tell the rows it is attached to."""
    from async_image_upload.attached import upload_finished

    upload_finished(upload)


@receiver(post_save, dispatch_uid="async_image_upload.attached_saved")
def attached_upload_finished_on_save(
    sender: type, instance: Any, raw: bool = False, using: str = "default", **kwargs: Any
) -> None:
    """A row was saved: if it holds an already-finished upload, tell after commit."""
    from async_image_upload.attached import async_image_fields, instance_saved

    if raw or not isinstance(instance, models.Model) or not async_image_fields(sender):
        return
    instance_saved(instance, using)
