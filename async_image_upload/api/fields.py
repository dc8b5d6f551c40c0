"""``AsyncImageSerializerField``: what ModelSerializers use for an AsyncImageField."""

from __future__ import annotations

import uuid
from typing import Any

from rest_framework import serializers
from rest_framework.fields import empty

from async_image_upload.models import ImageUpload, Status
from async_image_upload.values import AsyncImage


class AsyncImageSerializerField(serializers.ModelField):
    """Accepts an upload id the requesting user owns; renders status and variant URLs.

    ModelSerializer picks it automatically for every ``AsyncImageField`` (see
    :func:`register_model_serializer_mapping`). An id that does not exist, is
    someone else's or was made for another field gets the same answer, so the
    field does not reveal whose uploads exist. Attaching one upload to a second
    row is refused by the model field's unique validator.
    """

    default_error_messages = {
        "invalid": "Must be an upload id.",
        "unknown": "Unknown upload {upload_id}.",
        "unusable": "Upload {upload_id} is {status} and cannot be attached.",
    }

    def __init__(self, model_field: Any = None, **kwargs: Any) -> None:
        kwargs.pop("max_length", None)
        if model_field is None:
            serializers.Field.__init__(self, **kwargs)
            self.model_field = None
        else:
            super().__init__(model_field, **kwargs)

    def get_attribute(self, instance: Any) -> Any:
        return serializers.Field.get_attribute(self, instance)

    def to_internal_value(self, data: Any) -> AsyncImage:
        if isinstance(data, dict):  # a client echoing back the rendered object
            data = data.get("id", empty)
        try:
            upload_id = uuid.UUID(str(data))
        except (TypeError, ValueError, AttributeError):
            self.fail("invalid")
        upload = self._owned_uploads().filter(pk=upload_id).first()
        if upload is None:
            self.fail("unknown", upload_id=upload_id)
        if upload.status in (Status.FAILED, Status.EXPIRED):
            self.fail("unusable", upload_id=upload_id, status=upload.status)
        return AsyncImage(upload.pk, upload=upload)

    def _owned_uploads(self) -> Any:
        request = self.context.get("request")
        user = getattr(request, "user", None)
        queryset = ImageUpload.objects.owned_by(user)
        if self.model_field is not None:
            queryset = queryset.filter(field_id__in=["", self.model_field.field_id])
        return queryset

    def to_representation(self, value: Any) -> Any:
        if value is None:
            return None
        if not isinstance(value, AsyncImage):
            value = AsyncImage(uuid.UUID(str(value)))
        upload = value.upload
        if upload is None:
            return None
        from async_image_upload.api.serializers import error_data, variant_data

        return {
            "id": str(value.id),
            "status": upload.status,
            "width": upload.source_width,
            "height": upload.source_height,
            "placeholder": upload.placeholder or None,
            "variants": [variant_data(v) for v in value.variants],
            "error": error_data(upload),
        }


def register_model_serializer_mapping() -> None:
    """Map AsyncImageField to AsyncImageSerializerField in every ModelSerializer."""
    from rest_framework.serializers import ModelSerializer

    from async_image_upload.fields import AsyncImageField

    ModelSerializer.serializer_field_mapping[AsyncImageField] = AsyncImageSerializerField
