from rest_framework import serializers

from async_image_upload import AsyncImageDisplayField
from photos.models import Photo


class PhotoSerializer(serializers.ModelSerializer):
    """`image` maps to `AsyncImageSerializerField` automatically.

    `display` is the photo as the gallery's `{% async_img %}` shows it
    (src, srcset, width/height, placeholder), for clients that build the `<img>`.
    """

    display = AsyncImageDisplayField(source="image", sizes="(max-width: 420px) 100vw, 240px")

    class Meta:
        model = Photo
        fields = ["id", "title", "image", "display", "created_at"]
