from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from rest_framework import viewsets
from rest_framework.response import Response

from async_image_upload import prefetch_uploads
from photos.models import Photo
from photos.serializers import PhotoSerializer


class PhotoViewSet(viewsets.ModelViewSet):
    """The user's photos. Create one with ``{"title": ..., "image": "<upload id>"}``."""

    serializer_class = PhotoSerializer

    def get_queryset(self):
        return Photo.objects.filter(owner=self.request.user)

    def perform_create(self, serializer):
        serializer.save(owner=self.request.user)

    def list(self, request, *args, **kwargs):
        photos = list(self.get_queryset())
        prefetch_uploads(photos, "image")  # one query for all uploads, not one per photo
        return Response(self.get_serializer(photos, many=True).data)


@login_required
def index(request):
    photos = list(Photo.objects.filter(owner=request.user)[:50])
    prefetch_uploads(photos, "image")
    return render(request, "photos/index.html", {"photos": photos})
