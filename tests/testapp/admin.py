from django.contrib import admin

from async_image_upload.forms import AsyncImageAdminMixin
from tests.testapp.models import Photo


@admin.register(Photo)
class PhotoAdmin(AsyncImageAdminMixin, admin.ModelAdmin):
    pass
