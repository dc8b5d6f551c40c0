from django.db import models

from async_image_upload import AsyncImageField


class Photo(models.Model):
    """Uses the app settings for everything."""

    title = models.CharField(max_length=100, blank=True)
    owner = models.ForeignKey("auth.User", null=True, blank=True, on_delete=models.CASCADE)
    image = AsyncImageField(null=True, blank=True)

    def __str__(self) -> str:
        return self.title or f"Photo {self.pk}"


class Avatar(models.Model):
    """A field with its own rules, overriding the settings."""

    image = AsyncImageField(
        variants=["64x64", "256x256"],
        blur=False,
        max_upload_bytes=2 * 1024 * 1024,
        allowed_content_types=["image/jpeg", "image/png"],
    )

    def __str__(self) -> str:
        return f"Avatar {self.pk}"
