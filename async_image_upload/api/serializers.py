"""Request and response shapes of the three endpoints."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from rest_framework import serializers

from async_image_upload.api.callback import (
    CALLBACK_VERSION,
    MAX_BYTES,
    MAX_PIXELS_SIDE,
    MAX_VARIANTS,
    PLACEHOLDER_MESSAGE,
    is_valid_placeholder,
)
from async_image_upload.api.presign import (
    CONTENT_TYPE_MAX_LENGTH,
    FIELD_MAX_LENGTH,
    FILENAME_MAX_LENGTH,
    RuleError,
    apply_upload_rules,
    clean_filename,
    resolve_field,
)
from async_image_upload.conf import upload_settings
from async_image_upload.models import ImageUpload, Status
from async_image_upload.services import CallbackOutcome
from async_image_upload.values import Variant
from async_image_upload.variants import MAX_PLACEHOLDER_CHARS


class PresignRequestSerializer(serializers.Serializer):
    field = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=FIELD_MAX_LENGTH,
        help_text="The AsyncImageField this photo is for, as app_label.Model.field. "
        "Its variants, size cap and allowed types apply. Omit to use the app settings.",
    )
    filename = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=FILENAME_MAX_LENGTH,
        trim_whitespace=True,
        help_text="Shown to people only; it never becomes part of an S3 key.",
    )
    content_type = serializers.CharField(
        max_length=CONTENT_TYPE_MAX_LENGTH, help_text="The file's MIME type."
    )
    size = serializers.IntegerField(min_value=1, help_text="The file's size in bytes.")

    # The rules live in api/presign.py, which the view runs without DRF's
    # machinery; this serializer describes the request for OpenAPI and applies
    # the same rules, so the two cannot drift (tests/app/test_presign_validation.py).
    def validate_field(self, value: str) -> Any:
        try:
            return resolve_field(value)
        except RuleError as exc:
            raise serializers.ValidationError(exc.detail) from exc

    def validate_filename(self, value: str) -> str:
        return clean_filename(value)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        try:
            return apply_upload_rules(attrs)
        except RuleError as exc:
            raise serializers.ValidationError(exc.detail) from exc


class PresignResponseSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    status = serializers.ChoiceField(choices=Status.choices)
    url = serializers.URLField(
        help_text="POST the form here: every entry of `fields`, then `file`."
    )
    fields = serializers.DictField(child=serializers.CharField())
    max_bytes = serializers.IntegerField()
    expires_at = serializers.DateTimeField(help_text="The POST policy is refused after this.")
    status_url = serializers.URLField()


class VariantSerializer(serializers.Serializer):
    name = serializers.CharField()
    blurred = serializers.BooleanField()
    width = serializers.IntegerField()
    height = serializers.IntegerField()
    display_width = serializers.IntegerField()
    display_height = serializers.IntegerField()
    bytes = serializers.IntegerField()
    content_type = serializers.CharField()
    url = serializers.CharField()

    def to_representation(self, instance: Variant) -> dict[str, Any]:
        return variant_data(instance)


def variant_data(variant: Variant) -> dict[str, Any]:
    """A variant as the API shows it (VariantSerializer's shape, without its overhead).

    Status is polled, so rendering builds plain dicts rather than a serializer per variant.
    """
    return {
        "name": variant.name,
        "blurred": variant.blurred,
        "width": variant.width,
        "height": variant.height,
        "display_width": variant.display_width,
        "display_height": variant.display_height,
        "bytes": variant.bytes,
        "content_type": variant.content_type,
        "url": variant.url,
    }


def error_data(upload: ImageUpload) -> dict[str, str] | None:
    """The error a failed upload shows; None for every other status."""
    if upload.status != Status.FAILED:
        return None
    return {"code": upload.error_code, "message": upload.error_message}


class SourceSerializer(serializers.Serializer):
    format = serializers.CharField(allow_null=True)
    width = serializers.IntegerField(allow_null=True)
    height = serializers.IntegerField(allow_null=True)
    bytes = serializers.IntegerField(allow_null=True)


class ErrorSerializer(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()


class ImageDisplaySerializer(serializers.Serializer):
    """What `AsyncImageDisplayField` renders: the facts of `{% async_img %}` as data."""

    id = serializers.UUIDField()
    status = serializers.ChoiceField(choices=Status.choices)
    src = serializers.CharField(
        allow_null=True, help_text="The default variant's URL; null until the upload is ready."
    )
    srcset = serializers.CharField(
        allow_blank=True, help_text="Every plain variant as `<url> <width>w`, comma-separated."
    )
    sizes = serializers.CharField(
        allow_null=True, help_text="The `sizes` attribute the server would render."
    )
    width = serializers.IntegerField(
        allow_null=True, help_text="Display width of `src`: set it on the <img> (no layout shift)."
    )
    height = serializers.IntegerField(allow_null=True, help_text="Display height of `src`.")
    placeholder = serializers.CharField(
        allow_null=True, help_text="A tiny inline data: URI to show until the image loads."
    )
    variants = VariantSerializer(many=True)
    error = ErrorSerializer(allow_null=True)


_DATETIME = serializers.DateTimeField()


class UploadStatusSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    status = serializers.ChoiceField(choices=Status.choices)
    field = serializers.CharField(allow_blank=True)
    filename = serializers.CharField(allow_blank=True)
    content_type = serializers.CharField()
    created_at = serializers.DateTimeField()
    expires_at = serializers.DateTimeField()
    completed_at = serializers.DateTimeField(allow_null=True)
    source = SourceSerializer(allow_null=True)
    variants = VariantSerializer(many=True)
    placeholder = serializers.CharField(allow_null=True)
    error = ErrorSerializer(allow_null=True)

    def to_representation(self, instance: ImageUpload) -> dict[str, Any]:
        image = instance.as_image()
        when = _DATETIME.to_representation
        return {
            "id": str(instance.pk),
            "status": instance.status,
            "field": instance.field_id,
            "filename": instance.original_filename,
            "content_type": instance.content_type,
            "created_at": when(instance.created_at),
            "expires_at": when(instance.expires_at),
            "completed_at": when(instance.completed_at) if instance.completed_at else None,
            "source": (
                {
                    "format": instance.source_format or None,
                    "width": instance.source_width,
                    "height": instance.source_height,
                    "bytes": instance.source_bytes,
                }
                if instance.source_format or instance.source_bytes
                else None
            ),
            "variants": [variant_data(v) for v in image.variants],
            "placeholder": instance.placeholder or None,
            "error": error_data(instance),
        }


def status_url(request: Any, upload: ImageUpload) -> str:
    path = reverse("async_image_upload:upload-detail", args=[upload.pk])
    return request.build_absolute_uri(path) if request is not None else path


# -- the Lambda's callback ----------------------------------------------------------


class CallbackSourceSerializer(serializers.Serializer):
    key = serializers.CharField(max_length=1024)
    etag = serializers.CharField(max_length=128, allow_blank=True, allow_null=True, required=False)
    format = serializers.CharField(max_length=16, allow_null=True, allow_blank=True, required=False)
    width = serializers.IntegerField(
        min_value=1, max_value=MAX_PIXELS_SIDE, allow_null=True, required=False
    )
    height = serializers.IntegerField(
        min_value=1, max_value=MAX_PIXELS_SIDE, allow_null=True, required=False
    )
    bytes = serializers.IntegerField(
        min_value=0, max_value=MAX_BYTES, allow_null=True, required=False
    )


class CallbackVariantSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=32)
    key = serializers.CharField(max_length=1024)
    blurred = serializers.BooleanField()
    width = serializers.IntegerField(min_value=1, max_value=MAX_PIXELS_SIDE)
    height = serializers.IntegerField(min_value=1, max_value=MAX_PIXELS_SIDE)
    display_width = serializers.IntegerField(min_value=1, max_value=MAX_PIXELS_SIDE, required=False)
    display_height = serializers.IntegerField(
        min_value=1, max_value=MAX_PIXELS_SIDE, required=False
    )
    bytes = serializers.IntegerField(min_value=0, max_value=MAX_BYTES)
    content_type = serializers.RegexField(r"^image/[a-z0-9.+-]+$", max_length=64)


class CallbackErrorSerializer(serializers.Serializer):
    code = serializers.RegexField(r"^[a-z0-9_]+$", max_length=64)
    message = serializers.CharField(max_length=2000, allow_blank=True, trim_whitespace=False)


class CallbackSerializer(serializers.Serializer):
    """The Lambda's report as OpenAPI describes it (docs/contract.md).

    The view validates with the faster `parse_callback` (in `async_image_upload.api.callback`),
    which applies these rules and `validate` below; a test keeps the two in step. This text
    is the schema's description, so it is Markdown, not reStructuredText.
    """

    version = serializers.ChoiceField(choices=[CALLBACK_VERSION])
    upload_id = serializers.UUIDField()
    # The full choice set (one OpenAPI enum for "status"), narrowed in validate_status.
    status = serializers.ChoiceField(choices=Status.choices)
    source = CallbackSourceSerializer()
    variants = CallbackVariantSerializer(many=True, max_length=MAX_VARIANTS)
    placeholder = serializers.CharField(
        max_length=MAX_PLACEHOLDER_CHARS,
        allow_null=True,
        allow_blank=True,
        required=False,
        trim_whitespace=False,
    )
    error = CallbackErrorSerializer(allow_null=True, required=False)

    def validate_status(self, value: str) -> str:
        if value not in (Status.READY, Status.FAILED):
            raise serializers.ValidationError("A callback reports 'ready' or 'failed'.")
        return value

    def validate_placeholder(self, value: str | None) -> str | None:
        if value and not is_valid_placeholder(value):
            raise serializers.ValidationError(PLACEHOLDER_MESSAGE)
        return value

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        upload_id = str(attrs["upload_id"])
        # A result may only describe its own upload's keys.
        expected_source = f"{upload_settings.TEMP_PREFIX}{upload_id}"
        if attrs["source"]["key"] != expected_source:
            raise serializers.ValidationError({"source": [f"Key must be {expected_source!r}."]})
        prefix = f"{upload_settings.IMAGE_PREFIX}{upload_id}/"
        for variant in attrs["variants"]:
            if not variant["key"].startswith(prefix) or ".." in variant["key"]:
                raise serializers.ValidationError(
                    {"variants": [f"Variant keys must lie under {prefix!r}."]}
                )
        if attrs["status"] == Status.READY and not attrs["variants"]:
            raise serializers.ValidationError({"variants": ["A ready upload needs variants."]})
        if attrs["status"] == Status.FAILED and not attrs.get("error"):
            raise serializers.ValidationError({"error": ["A failed upload needs an error."]})
        attrs["upload_id"] = upload_id
        return attrs


class ErrorDetailSerializer(serializers.Serializer):
    """DRF's error body for everything but field validation."""

    detail = serializers.CharField()


class CallbackResponseSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    status = serializers.ChoiceField(choices=Status.choices)
    outcome = serializers.ChoiceField(choices=[outcome.value for outcome in CallbackOutcome])
