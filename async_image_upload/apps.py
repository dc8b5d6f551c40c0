from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AsyncImageUploadConfig(AppConfig):
    name = "async_image_upload"
    verbose_name = _("Async image uploads")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Imported for their side effects: system checks, the delete hook that
        # clears fields pointing at a deleted upload, and the DRF field mapping.
        from async_image_upload import checks, cors_checks, memory_checks, receivers  # noqa: F401
        from async_image_upload.api.fields import register_model_serializer_mapping

        register_model_serializer_mapping()
