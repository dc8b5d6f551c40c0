"""``AsyncImageSerializerField``: what ModelSerializers use for an AsyncImageField."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers
from rest_framework.fields import empty

from async_image_upload.api.schema import extend_schema_field
from async_image_upload.api.serializers import ImageDisplaySerializer, error_data, variant_data
from async_image_upload.attach import AttachRefused, attachable_upload, attached_id
from async_image_upload.display import display_data, image_display
from async_image_upload.fields import AsyncImageField
from async_image_upload.ids import InvalidUploadId, parse_upload_id
from async_image_upload.values import AsyncImage


class AsyncImageSerializerField(serializers.ModelField):
    """Accepts an upload id the requesting user owns; renders status and variant URLs.

    ModelSerializer picks it automatically for every ``AsyncImageField`` (see
    :func:`register_model_serializer_mapping`). The rules are the form field's
    (``attach.py``). An id that does not exist and someone else's get the same
    answer, so the field does not reveal whose uploads exist. Attaching one
    upload to a second row is refused by the model field's unique validator.
    """

    default_error_messages = {
        "invalid": "Must be an upload id.",
        "no_user": "Unknown upload {upload_id}.",
        "unknown": "Unknown upload {upload_id}.",
        "wrong_field": "Upload {upload_id} was made for another field.",
        "unusable": "Upload {upload_id} is {status} and cannot be attached.",
        "incompatible": "Upload {upload_id} does not fit this field: {reason}",
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
        request = self.context.get("request")
        instance = getattr(self.parent, "instance", None)
        try:
            image = attachable_upload(
                data,
                user=getattr(request, "user", None),
                model_field=self.model_field,
                attached=attached_id(self.model_field, instance),
            )
        except AttachRefused as refusal:
            self.fail(refusal.code, **refusal.params)
        if image is None:  # "" is not an id; null never reaches this method
            self.fail("invalid")
        return image

    def to_representation(self, value: Any) -> Any:
        image = as_image(value)
        upload = image.upload if image is not None else None
        if image is None or upload is None:
            return None
        return {
            "id": str(image.id),
            "status": upload.status,
            "width": upload.source_width,
            "height": upload.source_height,
            "placeholder": upload.placeholder or None,
            "variants": [variant_data(v) for v in image.variants],
            "error": error_data(upload),
        }


def as_image(value: Any) -> AsyncImage | None:
    """A field's value as an :class:`AsyncImage`; None for no value or a malformed id."""
    if value is None or isinstance(value, AsyncImage):
        return value
    try:
        upload_id = parse_upload_id(value)
    except InvalidUploadId:
        return None
    return AsyncImage(upload_id) if upload_id is not None else None


@extend_schema_field(ImageDisplaySerializer(allow_null=True))
class AsyncImageDisplayField(serializers.Field):
    """Read-only: an image as ``{% async_img %}`` would show it, for clients that build ``<img>``.

    ``{"id", "status", "src", "srcset", "sizes", "width", "height", "placeholder",
    "variants", "error"}``, from the same :func:`~async_image_upload.display.image_display`
    as the template tag, so a web page and an app show the same thing. ``sizes``
    and ``variant`` are the tag's arguments. None for no value or a deleted upload.

    ::

        class PhotoSerializer(serializers.ModelSerializer):
            display = AsyncImageDisplayField(source="image", sizes="(min-width: 700px) 400px")
    """

    def __init__(self, *, sizes: str | None = None, variant: str | None = None, **kwargs: Any):
        kwargs["read_only"] = True
        super().__init__(**kwargs)
        self.sizes = sizes
        self.variant = variant

    def to_representation(self, value: Any) -> dict[str, Any] | None:
        image = as_image(value)
        display = image_display(image, variant=self.variant, sizes=self.sizes)
        data = display_data(display)
        if display is None or data is None or image is None:
            return None
        upload = image.upload  # loaded by image_display: no second query
        data["variants"] = [variant_data(v) for v in display.variants]
        data["error"] = error_data(upload) if upload is not None else None
        return data


def register_model_serializer_mapping() -> None:
    """Map AsyncImageField to AsyncImageSerializerField in every ModelSerializer."""
    from rest_framework.serializers import ModelSerializer

    ModelSerializer.serializer_field_mapping[AsyncImageField] = AsyncImageSerializerField
