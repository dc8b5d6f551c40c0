"""What the example does when an upload finishes: log it (a real app might notify)."""

import logging

from django.dispatch import receiver

from async_image_upload import ImageUpload, upload_status_changed

logger = logging.getLogger("async_image_upload")


@receiver(upload_status_changed, sender=ImageUpload, dispatch_uid="photos.log_status")
def log_status(sender, upload, previous_status, status, **kwargs):
    logger.info("Upload %s: %s -> %s", upload.pk, previous_status, status)
