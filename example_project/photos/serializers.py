from rest_framework import serializers

from photos.models import Photo


class PhotoSerializer(serializers.ModelSerializer):
    """`image` maps to `AsyncImageSerializerField` automatically."""

    class Meta:
        model = Photo
        fields = ["id", "title", "image", "created_at"]
