from django.apps import AppConfig


class PhotosConfig(AppConfig):
    name = "photos"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Connect the status receiver, and the one that puts the smoke upload in the gallery.
        from photos import receivers, smoke  # noqa: F401
