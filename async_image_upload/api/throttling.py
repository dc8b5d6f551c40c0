"""Throttles for the client-facing endpoints."""

from __future__ import annotations

from typing import Any

from django.core.cache import cache
from rest_framework.throttling import BaseThrottle, UserRateThrottle

from async_image_upload.conf import upload_settings
from async_image_upload.models import ImageUpload


class UploadRateThrottle(UserRateThrottle):
    """Per user (or per IP when anonymous); rate from ``THROTTLE_RATE``.

    Its own scope, so limiting uploads does not spend the project's general
    ``user`` budget, and it works without DRF's DEFAULT_THROTTLE_RATES.
    """

    scope = "async_image_upload"

    def get_rate(self) -> str | None:
        return upload_settings.THROTTLE_RATE


class StatusRateThrottle(UserRateThrottle):
    """For the status endpoint, which clients poll; rate from ``STATUS_THROTTLE_RATE``."""

    scope = "async_image_upload_status"

    def get_rate(self) -> str | None:
        return upload_settings.STATUS_THROTTLE_RATE


class AnonymousPendingCap:
    """Open uploads per anonymous client, where a project allows anonymous uploads.

    Anonymous uploads have no owner to count by, so the ids a client (keyed by
    its address, exactly as DRF's anonymous throttles key it) opened live in the
    cache for ``UPLOAD_EXPIRY``, and each presign counts those still pending.
    Like DRF's throttles it reads and writes the cache without a lock, so a
    burst of simultaneous requests can pass it by a few; the presign throttle
    bounds that burst. The address is only as good as ``NUM_PROXIES``
    (system check ``async_image_upload.W003``).
    """

    cache_format = "async_image_upload_anonymous_pending_%s"

    def __init__(self, request: Any) -> None:
        self.key = self.cache_format % BaseThrottle().get_ident(request)

    def open_ids(self) -> list[str]:
        """The ids this client opened that are still pending and unexpired."""
        remembered = cache.get(self.key) or []
        if not remembered:
            return []
        still_open = {
            str(pk)
            for pk in ImageUpload.objects.filter(pk__in=remembered, owner__isnull=True)
            .open_pending()
            .values_list("pk", flat=True)
        }
        return [upload_id for upload_id in remembered if upload_id in still_open]

    def remember(self, open_ids: list[str], upload_id: Any) -> None:
        cache.set(self.key, [*open_ids, str(upload_id)], int(upload_settings.UPLOAD_EXPIRY))
