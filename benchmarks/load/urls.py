"""The app's URLs plus the bare yardstick views."""

from django.urls import include, path

from benchmarks.load.bare import BareCallback, BarePresign

urlpatterns = [
    path("bare/uploads/", BarePresign.as_view()),
    path("bare/callback/", BareCallback.as_view()),
    path("", include("async_image_upload.urls")),
]
