from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.csrf import ensure_csrf_cookie
from rest_framework import viewsets
from rest_framework.response import Response

from async_image_upload import prefetch_uploads
from photos.models import Photo
from photos.serializers import PhotoSerializer


class PhotoViewSet(viewsets.ModelViewSet):
    """The user's photos. Create one with `{"title": "…", "image": "<upload id>"}`."""

    serializer_class = PhotoSerializer
    # The model, for the OpenAPI schema: it types the `id` path parameter from the
    # primary key without a request. Every request goes through get_queryset().
    queryset = Photo.objects.all()

    def get_queryset(self):
        return Photo.objects.filter(owner=self.request.user)

    def perform_create(self, serializer):
        serializer.save(owner=self.request.user)

    def list(self, request, *args, **kwargs):
        photos = list(self.get_queryset())
        prefetch_uploads(photos, "image")  # one query for all uploads, not one per photo
        return Response(self.get_serializer(photos, many=True).data)


@login_required
@ensure_csrf_cookie  # the uploader sends the cookie's token on its POSTs (session auth)
def index(request: HttpRequest) -> HttpResponse:
    """The upload page: the uploader reads the field's own limits from here."""
    photos = list(Photo.objects.filter(owner=request.user)[:50])
    prefetch_uploads(photos, "image")
    image_field = Photo._meta.get_field("image")
    options = image_field.upload_options()
    return render(
        request,
        "photos/index.html",
        {
            "photos": photos,
            "uploader_config": {
                "uploadsUrl": reverse("async_image_upload:upload-create"),
                "photosUrl": reverse("photo-list"),
                "field": options.field_id,
                "maxBytes": options.max_bytes,
                "contentTypes": options.content_types,
            },
            "accept": ",".join(options.content_types),
        },
    )
