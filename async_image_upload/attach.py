"""Who may attach which upload to a field: the rules every attach path shares.

The serializer field (``api/fields.py``), the form field (``forms.py``) and the
admin widget's preview (``widgets.py``) all call :func:`attachable_upload`, so
an upload refused by one is refused by all (docs/security.md):

* the requester's own upload; no user, or an anonymous one, attaches nothing;
* made for this field, or made for no field and within everything this field
  allows (types, bytes, variants, blur);
* not ``failed`` or ``expired``, and not ``pending`` past its ``expires_at``;
* the value the row already holds is no change, and is always kept.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from async_image_upload._sizes import describe_bytes
from async_image_upload.ids import InvalidUploadId, parse_upload_id
from async_image_upload.models import ImageUpload, Status
from async_image_upload.services import UploadOptions
from async_image_upload.values import AsyncImage


class AttachRefused(Exception):
    """Why an upload may not be attached.

    ``code`` is one of ``invalid``, ``no_user``, ``unknown``, ``wrong_field``,
    ``unusable`` and ``incompatible``; ``params`` fill the caller's message for
    it; ``reason`` (``incompatible`` only) says which limit the upload exceeds.
    """

    def __init__(self, code: str, **params: Any) -> None:
        super().__init__(code)
        self.code = code
        self.params = params


def attached_id(model_field: Any, instance: Any) -> uuid.UUID | None:
    """The upload id ``instance`` holds in ``model_field`` (None for a new or other row)."""
    if model_field is None or instance is None or not isinstance(instance, model_field.model):
        return None
    try:
        return parse_upload_id(model_field.value_from_object(instance))
    except InvalidUploadId:
        return None


def attachable_upload(
    value: Any, *, user: Any, model_field: Any = None, attached: uuid.UUID | None = None
) -> AsyncImage | None:
    """The upload ``value`` names, if ``user`` may attach it to ``model_field``.

    None for an empty value. ``attached`` is the id the row already holds
    (see :func:`attached_id`): keeping it is no change and needs no rule.
    Raises :class:`AttachRefused`.
    """
    try:
        upload_id = parse_upload_id(value)
    except InvalidUploadId:
        raise AttachRefused("invalid") from None
    if upload_id is None:
        return None
    if attached is not None and upload_id == attached:
        return AsyncImage(upload_id)
    if user is None:
        raise AttachRefused("no_user", upload_id=upload_id)
    # Someone else's id and one that does not exist get the same answer.
    upload = ImageUpload.objects.owned_by(user).filter(pk=upload_id).first()
    if upload is None:
        raise AttachRefused("unknown", upload_id=upload_id)
    status = _effective_status(upload)
    if status in (Status.FAILED, Status.EXPIRED):
        raise AttachRefused("unusable", upload_id=upload_id, status=status)
    if model_field is not None and upload.field_id != model_field.field_id:
        if upload.field_id:
            raise AttachRefused("wrong_field", upload_id=upload_id)
        reason = incompatibility(upload, UploadOptions.for_field(model_field))
        if reason:
            raise AttachRefused("incompatible", upload_id=upload_id, reason=reason)
    return AsyncImage(upload.pk, upload=upload)


def _effective_status(upload: ImageUpload) -> str:
    """A pending upload past ``expires_at`` is expired, whether or not reconcile has run."""
    if upload.status == Status.PENDING and upload.expires_at <= timezone.now():
        return Status.EXPIRED
    return upload.status


def incompatibility(upload: ImageUpload, options: UploadOptions) -> str:
    """What ``upload`` (made for no field) was allowed beyond ``options``; "" if nothing."""
    if upload.content_type not in options.content_types:
        return _("This field does not accept %(content_type)s.") % {
            "content_type": upload.content_type
        }
    # Until the Lambda reports the size, the upload's own policy is all that bounds it.
    allowed_bytes = upload.source_bytes
    if allowed_bytes is None:
        allowed_bytes = UploadOptions.for_field(None).max_bytes
    if allowed_bytes > options.max_bytes:
        return _("This upload may be up to %(bytes)s; this field allows %(limit)s.") % {
            "bytes": describe_bytes(allowed_bytes),
            "limit": describe_bytes(options.max_bytes),
        }
    if sorted(set(upload.requested_variants)) != sorted(set(options.variants)):
        return _("This upload was made with variants %(made)s; this field makes %(field)s.") % {
            "made": ", ".join(upload.requested_variants),
            "field": ", ".join(options.variants),
        }
    if bool(upload.blur_radius) != bool(options.blur_radius):
        if options.blur_radius:
            return _("This upload has no blurred variants; this field makes them.")
        return _("This upload has blurred variants; this field makes none.")
    return ""
