"""Keep users' rows consistent when an upload row goes away."""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_delete
from django.dispatch import receiver

from async_image_upload.models import ImageUpload


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
