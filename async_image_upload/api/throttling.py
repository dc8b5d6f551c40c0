"""Throttles for the client-facing endpoints."""

from __future__ import annotations

from rest_framework.throttling import UserRateThrottle

from async_image_upload.conf import upload_settings


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
