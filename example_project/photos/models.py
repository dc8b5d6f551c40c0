from django.conf import settings
from django.db import models

from async_image_upload import AsyncImageField


class Photo(models.Model):
    """A user's photo; ``image`` points at the upload the Lambda processes."""

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    title = models.CharField(max_length=200, blank=True)
    image = AsyncImageField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.title or f"Photo {self.pk}"
