"""Mount with ``path("api/", include("async_image_upload.urls"))``."""

from django.urls import path

from async_image_upload.api import views

app_name = "async_image_upload"

urlpatterns = [
    path("uploads/", views.UploadCreateView.as_view(), name="upload-create"),
    path("uploads/callback/", views.CallbackView.as_view(), name="callback"),
    path("uploads/<str:pk>/", views.UploadDetailView.as_view(), name="upload-detail"),
]
