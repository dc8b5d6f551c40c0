from django.apps import AppConfig


class PhotosConfig(AppConfig):
    name = "photos"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from photos import receivers  # noqa: F401  (connects the status receiver)
