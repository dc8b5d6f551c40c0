"""``AsyncImageField``: a model field on users' own models that points at an upload."""

from __future__ import annotations

import uuid
from typing import Any

from django.core import checks, exceptions
from django.db import models
from django.utils.translation import gettext_lazy as _

from async_image_upload.forms import AsyncImageFormField
from async_image_upload.ids import InvalidUploadId, parse_upload_id
from async_image_upload.values import AsyncImage


def _to_uuid(value: Any) -> uuid.UUID | None:
    from async_image_upload.models import ImageUpload

    if isinstance(value, ImageUpload):
        return value.pk
    try:
        return parse_upload_id(value)
    except InvalidUploadId as exc:
        raise exceptions.ValidationError(
            _("“%(value)s” is not a valid upload id."), code="invalid", params={"value": value}
        ) from exc


class AsyncImageDescriptor:
    """Returns an :class:`AsyncImage` (or None) and accepts uploads, images, ids or None."""

    def __init__(self, field: AsyncImageField) -> None:
        self.field = field

    def __get__(self, instance: Any, owner: type | None = None) -> Any:
        if instance is None:
            return self
        value = instance.__dict__.get(self.field.attname)
        if value is None or isinstance(value, AsyncImage):
            return value
        image = AsyncImage(_to_uuid(value))  # type: ignore[arg-type]
        instance.__dict__[self.field.attname] = image
        return image

    def __set__(self, instance: Any, value: Any) -> None:
        from async_image_upload.models import ImageUpload

        if isinstance(value, ImageUpload):
            value = AsyncImage(value.pk, upload=value)
        elif isinstance(value, AsyncImage) or value is None:
            pass
        else:
            value = AsyncImage(_to_uuid(value))  # type: ignore[arg-type]
        instance.__dict__[self.field.attname] = value


class AsyncImageField(models.Field):
    """Stores the id of an :class:`~async_image_upload.models.ImageUpload`.

    It is a plain UUID column rather than a ForeignKey so that Django REST
    framework maps it to our own serializer field, and so that reading it costs
    no join. ``unique=True`` by default: one upload is attached to one row.
    Per-field ``variants``, ``blur``, ``max_upload_bytes`` and
    ``allowed_content_types`` override the app settings for uploads made for
    this field.
    """

    description = _("Asynchronously processed image upload")
    descriptor_class = AsyncImageDescriptor
    empty_strings_allowed = False

    def __init__(
        self,
        *args: Any,
        variants: list[str] | None = None,
        blur: bool | None = None,
        max_upload_bytes: int | None = None,
        allowed_content_types: list[str] | None = None,
        **kwargs: Any,
    ) -> None:
        self.variants = list(variants) if variants is not None else None
        self.blur = blur
        self.max_upload_bytes = max_upload_bytes
        self.allowed_content_types = (
            list(allowed_content_types) if allowed_content_types is not None else None
        )
        kwargs.setdefault("unique", True)
        super().__init__(*args, **kwargs)

    # -- identity ----------------------------------------------------------------
    @property
    def field_id(self) -> str:
        """``app_label.Model.field``: how the API and uploads name this field."""
        return f"{self.model._meta.label}.{self.name}"

    def upload_options(self) -> Any:
        """This field's rules for new uploads: its own options over the app settings."""
        from async_image_upload.services import UploadOptions

        return UploadOptions.for_field(self)

    # -- Django plumbing ----------------------------------------------------------
    def check(self, **kwargs: Any) -> list[checks.CheckMessage]:
        from async_image_upload.checks import check_field_options

        return [*super().check(**kwargs), *check_field_options(self)]

    def deconstruct(self) -> tuple[str, str, list[Any], dict[str, Any]]:
        name, _path, args, kwargs = super().deconstruct()
        if kwargs.get("unique") is True:
            del kwargs["unique"]
        elif not self._unique:
            kwargs["unique"] = False
        for option in ("variants", "blur", "max_upload_bytes", "allowed_content_types"):
            value = getattr(self, option)
            if value is not None:
                kwargs[option] = value
        return name, "async_image_upload.fields.AsyncImageField", args, kwargs

    def get_internal_type(self) -> str:
        return "UUIDField"

    def db_type(self, connection: Any) -> str | None:
        return models.UUIDField().db_type(connection)

    def get_prep_value(self, value: Any) -> uuid.UUID | None:
        return _to_uuid(super().get_prep_value(value))

    def get_db_prep_value(self, value: Any, connection: Any, prepared: bool = False) -> Any:
        if not prepared:
            value = self.get_prep_value(value)
        return models.UUIDField().get_db_prep_value(value, connection, prepared=True)

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> Any:
        if value is None:
            return None
        return AsyncImage(_to_uuid(value))  # type: ignore[arg-type]

    def to_python(self, value: Any) -> Any:
        if value is None or isinstance(value, AsyncImage):
            return value
        upload_id = _to_uuid(value)
        return AsyncImage(upload_id) if upload_id else None

    def value_to_string(self, obj: Any) -> str:
        value = self.value_from_object(obj)
        return "" if value is None else str(_to_uuid(value))

    def formfield(self, **kwargs: Any) -> Any:
        return super().formfield(
            **{"form_class": AsyncImageFormField, "model_field": self, **kwargs}
        )


def get_async_image_field(field_id: str) -> AsyncImageField:
    """Resolve ``app_label.Model.field`` to its AsyncImageField, or raise LookupError."""
    from django.apps import apps
    from django.core.exceptions import FieldDoesNotExist

    try:
        model_label, field_name = field_id.rsplit(".", 1)
        model = apps.get_model(model_label)
        field = model._meta.get_field(field_name)
    except (ValueError, LookupError, FieldDoesNotExist) as exc:
        raise LookupError(f"No field {field_id!r}.") from exc
    if not isinstance(field, AsyncImageField) or field.model is not model:
        raise LookupError(f"{field_id!r} is not an AsyncImageField.")
    return field
