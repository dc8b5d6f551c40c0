from django.contrib import admin

from tests.testapp.models import Photo

admin.site.register(Photo)
