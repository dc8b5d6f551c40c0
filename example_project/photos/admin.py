from django.contrib import admin

from async_image_upload.forms import AsyncImageAdminMixin
from photos.models import Photo


@admin.register(Photo)
class PhotoAdmin(AsyncImageAdminMixin, admin.ModelAdmin):
    """The mixin tells the image field who is editing: only their own uploads attach."""

    list_display = ("id", "title", "owner", "created_at")
