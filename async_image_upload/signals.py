"""Signals the app sends."""

from django.dispatch import Signal

#: Sent once per real status change, after the transaction that made it commits.
#: Receivers get ``upload`` (the :class:`~async_image_upload.models.ImageUpload`),
#: ``previous_status`` and ``status``; ``sender`` is the ``ImageUpload`` class.
upload_status_changed = Signal()

#: Sent once per (model instance, field, upload) when an upload attached to one of
#: your rows is finished: ``ready`` or ``failed``. Either the upload finished while
#: attached, or a finished upload was attached by ``save()``; whichever happens
#: second sends it, after commit. ``sender`` is your model class; receivers get
#: ``instance``, ``field_name``, ``upload`` and ``status``. See docs/signals.md.
attached_upload_finished = Signal()
