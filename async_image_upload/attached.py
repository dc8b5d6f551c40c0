"""``attached_upload_finished``: the event about a user's own row.

Two paths can make the pair (instance, field, upload) "attached and finished":

* the upload finishes (``upload_status_changed`` to ``ready``/``failed``) while
  rows already point at it;
* ``save()`` attaches an upload that is already finished.

Both checks run *after* their own transaction commits and read committed rows,
so whichever of two concurrent transactions commits second sees the other's
work: the pair is never missed. When both see it, a unique row in
``AttachedUploadEvent`` decides which one sends: the pair is never sent twice.
"""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.db import IntegrityError, models, router, transaction

from async_image_upload.models import FINAL_STATUSES, AttachedUploadEvent, ImageUpload
from async_image_upload.signals import attached_upload_finished


def async_image_fields(model: type[models.Model]) -> list[Any]:
    """The concrete AsyncImageFields of ``model`` (cached on its ``_meta``)."""
    from async_image_upload.fields import AsyncImageField

    cached = model._meta.__dict__.get("_async_image_fields")
    if cached is None:
        cached = [f for f in model._meta.concrete_fields if isinstance(f, AsyncImageField)]
        model._meta.__dict__["_async_image_fields"] = cached
    return cached


def _claim(upload: ImageUpload, field: Any, instance: models.Model) -> bool:
    """Record the event for this pair; False when it was already recorded."""
    alias = router.db_for_write(AttachedUploadEvent)
    try:
        with transaction.atomic(using=alias):
            AttachedUploadEvent.objects.using(alias).create(
                upload_id=upload.pk, field_id=field.field_id, object_pk=str(instance.pk)
            )
    except IntegrityError:
        return False
    return True


def _send(upload: ImageUpload, field: Any, instance: models.Model) -> None:
    if _claim(upload, field, instance):
        attached_upload_finished.send(
            sender=field.model,
            instance=instance,
            field_name=field.name,
            upload=upload,
            status=upload.status,
        )


def upload_finished(upload: ImageUpload) -> None:
    """Path 1, after the upload's change committed: every row pointing at it."""
    if upload.status not in FINAL_STATUSES:
        return
    for model in apps.get_models():
        for field in async_image_fields(model):
            if field.model is not model:
                continue
            for instance in model._base_manager.filter(**{field.attname: upload.pk}):
                _send(upload, field, instance)


def instance_saved(instance: models.Model, using: str) -> None:
    """Path 2, on ``post_save``: after commit, check each attached upload's status."""
    attached = [
        (field, image.id)
        for field in async_image_fields(type(instance))
        if (image := field.value_from_object(instance)) is not None
    ]
    if not attached:
        return

    def check() -> None:
        model = type(instance)
        for field, upload_id in attached:
            upload = ImageUpload.objects.filter(pk=upload_id, status__in=FINAL_STATUSES).first()
            if upload is None:
                continue
            # Still attached once committed? A later save may have replaced it.
            still = model._base_manager.using(using).filter(
                pk=instance.pk, **{field.attname: upload_id}
            )
            if still.exists():
                _send(upload, field, instance)

    transaction.on_commit(check, using=using)
