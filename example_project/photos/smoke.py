"""Show `run_local_stack --smoke`'s upload in the gallery, as a client would by attaching it.

The local stack is generic: it cannot know this project's models, so it sends
`smoke_upload_finished` and this receiver attaches a ready upload to a `Photo`.
"""

from django.dispatch import receiver

from async_image_upload.local.signals import smoke_upload_finished
from photos.models import Photo


@receiver(smoke_upload_finished, dispatch_uid="photos.attach_smoke_upload")
def attach_smoke_upload(sender, upload, status, **kwargs):
    if status == "ready" and upload.owner_id is not None:
        Photo.objects.get_or_create(
            owner_id=upload.owner_id, image=upload, defaults={"title": "Smoke upload"}
        )
