"""The app's one settings object.

Users write a single ``ASYNC_IMAGE_UPLOAD`` dict in their Django settings; code
reads attributes of :data:`upload_settings`. Values are read lazily (never at
import time) and cached until Django's ``setting_changed`` signal reloads them,
so ``override_settings`` in tests behaves as users expect.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

from django.conf import settings as django_settings
from django.core.signals import setting_changed
from django.utils.module_loading import import_string

SETTINGS_NAME = "ASYNC_IMAGE_UPLOAD"

#: Every setting with its default. ``docs/settings.md`` documents each one.
DEFAULTS: dict[str, Any] = {
    # Where the bytes go. ``None`` falls back to django-storages' AWS_* settings.
    "BUCKET": None,
    "REGION": None,
    "ENDPOINT_URL": None,
    # The S3 endpoint that browsers and apps see, if it differs from ENDPOINT_URL
    # (for example an emulator reachable under another host name).
    "PUBLIC_ENDPOINT_URL": None,
    "TEMP_PREFIX": "temp/",
    "IMAGE_PREFIX": "image/",
    # What a client may upload.
    "MAX_UPLOAD_BYTES": 20 * 1024 * 1024,
    "ALLOWED_CONTENT_TYPES": [
        "image/jpeg",
        "image/png",
        "image/webp",
        "image/gif",
        "image/heic",
        "image/heif",
        "image/avif",
    ],
    # Seconds a presigned POST stays valid.
    "PRESIGN_EXPIRY": 15 * 60,
    # Seconds after which a never-finished upload may be marked expired.
    "UPLOAD_EXPIRY": 24 * 60 * 60,
    "MAX_PENDING_PER_USER": 20,
    # Where PERMISSION_CLASSES admit anonymous callers: open uploads per client address.
    "MAX_PENDING_PER_ANONYMOUS_CLIENT": 5,
    # What the Lambda makes.
    "VARIANTS": ["50x50", "100x100", "400x400", "original"],
    "BLUR": True,
    "BLUR_RADIUS": 20,
    # How the Lambda reaches Django.
    "CALLBACK_URL": None,
    # ``None`` derives the secret from SECRET_KEY (and SECRET_KEY_FALLBACKS).
    # Otherwise a list: the first signs, all verify (rotation).
    "CALLBACK_SECRETS": None,
    "CALLBACK_MAX_AGE": 5 * 60,
    "CALLBACK_MAX_BODY_BYTES": 256 * 1024,
    # DRF hooks for the client-facing endpoints (dotted paths).
    "AUTHENTICATION_CLASSES": None,  # None: DRF's DEFAULT_AUTHENTICATION_CLASSES
    "PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "THROTTLE_CLASSES": ["async_image_upload.api.throttling.UploadRateThrottle"],
    "THROTTLE_RATE": "120/minute",
    # Polling the status endpoint has its own budget, so it cannot starve uploads.
    "STATUS_THROTTLE_CLASSES": ["async_image_upload.api.throttling.StatusRateThrottle"],
    "STATUS_THROTTLE_RATE": "600/minute",
    "CALLBACK_THROTTLE_CLASSES": [],
    # How variant URLs are built: "presigned" (private bucket, default),
    # "storage" (a django-storages storage's url()), "custom_domain" (CDN).
    "URL_MODE": "presigned",
    # Presigned GET URLs are signed once per window (the signing time floored to
    # the window's start), so they stay identical, and cacheable, for the whole
    # window; each stays valid at least URL_EXPIRY after it is handed out.
    "URL_EXPIRY": 60 * 60,
    "URL_SIGNING_WINDOW": 60 * 60,
    "STORAGE": "default",
    # With URL_MODE "custom_domain": the host URLs use. CUSTOM_DOMAIN (your own name
    # for the CDN) wins; else CDN_DOMAIN, the distribution deploy_thumbnail_stack --cdn
    # printed (d111111abcdef8.cloudfront.net).
    "CUSTOM_DOMAIN": None,
    "CDN_DOMAIN": None,
    "URL_PROTOCOL": "https",
    # CloudFront signed URLs (private galleries, deploy --cdn-public-key): the key
    # pair id the deploy printed and the RSA private key's PEM text (from a secret
    # store or the environment; never commit it). Both or neither.
    "CLOUDFRONT_KEY_ID": None,
    "CLOUDFRONT_PRIVATE_KEY": None,
    # "urls": every image URL carries its own signature; "cookies": URLs are plain
    # and the page sets cloudfront_cookies() (one signature for all images).
    "CLOUDFRONT_SIGNING": "urls",
    # Cache-Control of the output images; None derives it from URL_MODE
    # (async_image_upload/cache_control.py). The deploy passes it to the Lambda.
    "CACHE_CONTROL": None,
    # Defaults for manage.py deploy_thumbnail_stack (its options override them).
    "DEPLOY_STACK_NAME": None,
    "DEPLOY_CORS_ORIGINS": [],
    "DEPLOY_MEMORY_MB": None,
    "DEPLOY_ARCHITECTURE": None,
    "DEPLOY_RESERVED_CONCURRENCY": None,
    # Prices for manage.py thumbnail_cost_report (None: the built-in dated defaults).
    "TUNING_PRICES": None,
}

#: Settings that hold dotted paths and are imported on access.
IMPORT_STRINGS = frozenset(
    {
        "AUTHENTICATION_CLASSES",
        "PERMISSION_CLASSES",
        "THROTTLE_CLASSES",
        "STATUS_THROTTLE_CLASSES",
        "CALLBACK_THROTTLE_CLASSES",
    }
)

#: Settings whose default comes from django-storages' own settings.
STORAGES_FALLBACKS = {
    "BUCKET": "AWS_STORAGE_BUCKET_NAME",
    "REGION": "AWS_S3_REGION_NAME",
    "ENDPOINT_URL": "AWS_S3_ENDPOINT_URL",
}

CALLBACK_SECRET_SALT = b"django-async-image-upload.callback-secret.v1"


def derive_callback_secret(secret_key: str | bytes) -> str:
    """Derive the callback secret from a Django SECRET_KEY.

    A derived value (not SECRET_KEY itself) goes to the Lambda, so a leak of the
    Lambda's environment does not hand out the key that signs sessions.
    """
    key = secret_key.encode() if isinstance(secret_key, str) else secret_key
    return hmac.new(key, CALLBACK_SECRET_SALT, hashlib.sha256).hexdigest()


class UploadSettings:
    """Attribute access to ``ASYNC_IMAGE_UPLOAD`` with defaults, cached until reload."""

    def __init__(self, defaults: dict[str, Any] | None = None) -> None:
        self._defaults = defaults or DEFAULTS
        self._cached: set[str] = set()

    @property
    def user_settings(self) -> dict[str, Any]:
        return getattr(django_settings, SETTINGS_NAME, None) or {}

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_") or name not in self._defaults:
            raise AttributeError(f"Unknown {SETTINGS_NAME} setting: {name!r}")
        value = self._resolve(name)
        self._cached.add(name)
        setattr(self, name, value)
        return value

    def _resolve(self, name: str) -> Any:
        user = self.user_settings
        if name in user:
            value = user[name]
        elif name in STORAGES_FALLBACKS:
            value = getattr(django_settings, STORAGES_FALLBACKS[name], None)
        else:
            value = self._defaults[name]
        if name == "REGION" and not value:
            value = "us-east-1"
        if name in IMPORT_STRINGS and value is not None:
            value = [import_string(item) if isinstance(item, str) else item for item in value]
        return value

    @property
    def callback_secrets(self) -> list[str]:
        """Secrets that verify a callback; the first one signs."""
        configured = self.CALLBACK_SECRETS
        if configured:
            return [configured] if isinstance(configured, str) else list(configured)
        keys = [django_settings.SECRET_KEY, *getattr(django_settings, "SECRET_KEY_FALLBACKS", [])]
        return [derive_callback_secret(key) for key in keys if key]

    def reload(self) -> None:
        for name in self._cached:
            self.__dict__.pop(name, None)
        self._cached.clear()


upload_settings = UploadSettings()


def affects_upload_settings(setting: str) -> bool:
    """Does a change to the Django setting ``setting`` change what :data:`upload_settings` reads?

    Modules that cache something built from the settings (``s3`` keeps boto3
    clients) connect their own ``setting_changed`` receiver and ask this, so conf
    reloads only itself and imports none of them.
    """
    return setting in {SETTINGS_NAME, "SECRET_KEY", "SECRET_KEY_FALLBACKS", "DEBUG"} or (
        setting in STORAGES_FALLBACKS.values()
    )


def _reload_on_change(*, setting: str, **kwargs: Any) -> None:
    if affects_upload_settings(setting):
        upload_settings.reload()


setting_changed.connect(_reload_on_change)
