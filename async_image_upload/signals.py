"""Signals the app sends."""

from django.dispatch import Signal

#: Sent once per real status change, after the transaction that made it commits.
#: Receivers get ``upload`` (the :class:`~async_image_upload.models.ImageUpload`),
#: ``previous_status`` and ``status``; ``sender`` is the ``ImageUpload`` class.
upload_status_changed = Signal()
