"""What the stack is built from: the Django settings plus the command's options.

The template builder, packager and deployer take a :class:`StackConfig` and never
read Django settings themselves, so they stay pure and testable, and the values
that Django and the Lambda must agree on (prefixes, variants, blur, callback URL)
come from exactly one place.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from async_image_upload.cache_control import PUBLIC_IMMUTABLE as DEFAULT_CACHE_CONTROL
from async_image_upload.variants import MAX_BLUR_RADIUS, parse_variants

BucketMode = Literal["new", "existing"]

ARCHITECTURES = ("arm64", "x86_64")
RUNTIMES = ("python3.12", "python3.13")

DEFAULT_STACK_NAME = "async-image-upload"
DEFAULT_ARCHITECTURE = "arm64"
DEFAULT_RUNTIME = "python3.12"
#: Holds the largest input the default caps allow (50 MP, 20 MB, every format, the
#: default variants): the Lambda's memory budget estimates 1152 MB for a 50 MP
#: (animated) WebP, whose decoder keeps two canvases (measured peak 892 MB, see
#: docs/performance.md#memory-by-format); every other format fits in 768 MB.
#: thumbnail_cost_report found 512 MB the cheapest for ordinary photos
#: (docs/tuning.md): with JPEG/PNG/HEIC only, or smaller photos, deploy with
#: ``--memory recommended``; the system check async_image_upload.W004 warns when
#: the memory cannot hold what the settings allow.
DEFAULT_MEMORY_MB = 1152
DEFAULT_TIMEOUT_SECONDS = 30
DEFAULT_TEMP_EXPIRATION_DAYS = 1
DEFAULT_LOG_RETENTION_DAYS = 30
#: Lambda's own default is 2 retries over 6 hours; a photo nobody sees for an hour is
#: better parked in the dead-letter queue for the reconcile command.
DEFAULT_MAX_RETRY_ATTEMPTS = 2
DEFAULT_MAX_EVENT_AGE_SECONDS = 3600

#: Values CloudWatch Logs accepts for RetentionInDays.
LOG_RETENTION_DAYS = (
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192,
    2557, 2922, 3288, 3653,
)  # fmt: skip

_BUCKET_NAME = re.compile(r"^(?!xn--)(?!sthree-)(?!.*-s3alias$)[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_FUNCTION_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_STACK_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9-]{0,127}$")
_HEADER_VALUE = re.compile(r"[\x20-\x7e]{1,1024}")
_PUBLIC_KEY_PEM = re.compile(
    r"^-----BEGIN PUBLIC KEY-----\n[A-Za-z0-9+/=\n]+\n-----END PUBLIC KEY-----$"
)
CDN_PRICE_CLASSES = ("PriceClass_100", "PriceClass_200", "PriceClass_All")
CDN_MAX_STACK_NAME = 64 - len("-images")


class ConfigError(ValueError):
    """A setting or option that cannot make a working stack; the message says which."""


@dataclass(frozen=True)
class StackConfig:
    """Everything the template, package and deploy steps need, validated once.

    The callback secret is deliberately absent: it travels only as a NoEcho
    parameter value at deploy time, so no config repr, template or log holds it.
    """

    bucket_name: str
    callback_url: str
    bucket_mode: BucketMode = "new"
    stack_name: str = DEFAULT_STACK_NAME
    region: str = "us-east-1"
    function_name: str = ""
    temp_prefix: str = "temp/"
    image_prefix: str = "image/"
    variants: tuple[str, ...] = ("50x50", "100x100", "400x400", "original")
    blur: bool = True
    blur_radius: int = 20
    architecture: str = DEFAULT_ARCHITECTURE
    runtime: str = DEFAULT_RUNTIME
    memory_mb: int = DEFAULT_MEMORY_MB
    timeout_seconds: int = DEFAULT_TIMEOUT_SECONDS
    temp_expiration_days: int = DEFAULT_TEMP_EXPIRATION_DAYS
    cors_origins: tuple[str, ...] = ()
    reserved_concurrency: int | None = None
    log_retention_days: int = DEFAULT_LOG_RETENTION_DAYS
    max_retry_attempts: int = DEFAULT_MAX_RETRY_ATTEMPTS
    max_event_age_seconds: int = DEFAULT_MAX_EVENT_AGE_SECONDS
    heif: bool = True
    max_upload_bytes: int = 20 * 1024 * 1024
    extra_environment: dict[str, str] = field(default_factory=dict)
    #: Where CloudWatch alarms are e-mailed (an SNS topic and subscription); "" for none.
    alarm_email: str = ""
    #: X-Ray active tracing (opt-in: it bills per trace).
    tracing: bool = False
    #: ``Cache-Control`` the Lambda writes on outputs (async_image_upload/cache_control.py).
    cache_control: str = DEFAULT_CACHE_CONTROL
    #: A CloudFront distribution in front of the image prefix (infra/cdn.py).
    cdn: bool = False
    #: PEM of the RSA public key whose signed URLs the distribution requires; "" for none.
    cdn_public_key: str = ""
    cdn_price_class: str = "PriceClass_100"

    def __post_init__(self) -> None:
        if not self.function_name:
            object.__setattr__(self, "function_name", f"{self.stack_name}-thumbnails")
        self.validate()

    @property
    def is_new_bucket(self) -> bool:
        return self.bucket_mode == "new"

    def validate(self) -> None:
        """Refuse configurations that would deploy but not work (or loop)."""
        problems = list(self._problems())
        if problems:
            raise ConfigError("; ".join(problems))

    def _problems(self) -> Iterator[str]:
        if self.bucket_mode not in ("new", "existing"):
            yield f"bucket mode must be 'new' or 'existing', not {self.bucket_mode!r}"
        if (
            not self.bucket_name
            or not _BUCKET_NAME.match(self.bucket_name)
            or ".." in (self.bucket_name)
        ):
            yield f"{self.bucket_name!r} is not a valid S3 bucket name"
        if not _STACK_NAME.match(self.stack_name):
            yield (
                f"stack name {self.stack_name!r} must start with a letter and hold only "
                "letters, digits and hyphens (at most 128)"
            )
        if not _FUNCTION_NAME.match(self.function_name):
            yield f"function name {self.function_name!r} must be 1-64 letters, digits, - or _"
        if not self.callback_url or not re.match(r"^https?://[^/\s]+", self.callback_url):
            yield (
                "CALLBACK_URL must be set to the absolute URL of the callback view "
                "(e.g. https://example.com/uploads/callback/)"
            )
        for name, prefix in (
            ("TEMP_PREFIX", self.temp_prefix),
            ("IMAGE_PREFIX", self.image_prefix),
        ):
            if not prefix or not prefix.endswith("/") or prefix.startswith("/"):
                yield f"{name} must be a non-empty key prefix ending in '/', not {prefix!r}"
        if self.image_prefix.startswith(self.temp_prefix):
            yield (
                f"IMAGE_PREFIX {self.image_prefix!r} lies under TEMP_PREFIX {self.temp_prefix!r}: "
                "the Lambda would trigger itself on its own output"
            )
        if self.temp_prefix.startswith(self.image_prefix):
            yield f"TEMP_PREFIX {self.temp_prefix!r} lies under IMAGE_PREFIX {self.image_prefix!r}"
        try:  # the same rules (and Lambda limits) as a presigned POST's variants
            parse_variants(self.variants)
        except ValueError as exc:
            yield f"VARIANTS: {exc}"
        if self.architecture not in ARCHITECTURES:
            yield f"architecture must be one of {', '.join(ARCHITECTURES)}"
        if self.runtime not in RUNTIMES:
            yield f"runtime must be one of {', '.join(RUNTIMES)}"
        if not 128 <= self.memory_mb <= 10240:
            yield "memory must be between 128 and 10240 MB"
        if not 1 <= self.timeout_seconds <= 900:
            yield "timeout must be between 1 and 900 seconds"
        if self.temp_expiration_days < 1:
            yield "temp expiration must be at least 1 day"
        if self.reserved_concurrency is not None and self.reserved_concurrency < 1:
            yield "reserved concurrency must be at least 1 (omit it for none)"
        if self.log_retention_days not in LOG_RETENTION_DAYS:
            yield f"log retention must be one of {LOG_RETENTION_DAYS}"
        if not 0 <= self.max_retry_attempts <= 2:
            yield "retry attempts must be 0, 1 or 2"
        if not 60 <= self.max_event_age_seconds <= 21600:
            yield "maximum event age must be between 60 and 21600 seconds"
        if not 0 <= self.blur_radius <= MAX_BLUR_RADIUS:
            yield f"BLUR_RADIUS must be between 0 and {MAX_BLUR_RADIUS} (the Lambda's limit)"
        if self.alarm_email and not re.match(r"^[^@\s]+@[^@\s]+\.[^@\s]+$", self.alarm_email):
            yield f"alarm e-mail {self.alarm_email!r} is not an e-mail address"
        if not _HEADER_VALUE.fullmatch(self.cache_control):
            yield (
                f"CACHE_CONTROL {self.cache_control!r} is not a header value (printable "
                "ASCII, at most 1024 characters)"
            )
        if self.cdn and len(self.stack_name) > CDN_MAX_STACK_NAME:
            yield (
                f"with --cdn the stack name must be at most {CDN_MAX_STACK_NAME} characters "
                "(CloudFront limits the origin access control's name, <stack>-images, to 64)"
            )
        if self.cdn_public_key and not self.cdn:
            yield "a CloudFront public key (--cdn-public-key) needs --cdn"
        if self.cdn_public_key and not _PUBLIC_KEY_PEM.match(self.cdn_public_key.strip()):
            yield "the CloudFront public key must be a PEM '-----BEGIN PUBLIC KEY-----' block"
        if self.cdn_price_class not in CDN_PRICE_CLASSES:
            yield f"CDN price class must be one of {', '.join(CDN_PRICE_CLASSES)}"
        for origin in self.cors_origins:
            if origin != "*" and not re.match(r"^https?://[^/\s]+$", origin):
                yield f"CORS origin {origin!r} must look like https://example.com (no path)"

    def with_options(self, **changes: Any) -> StackConfig:
        """A copy with some fields replaced (``None`` values are ignored)."""
        return replace(self, **{k: v for k, v in changes.items() if v is not None})

    @property
    def python_version(self) -> str:
        """``"3.12"`` for ``python3.12``: what pip needs to pick wheels."""
        return self.runtime.removeprefix("python")

    @property
    def settings_summary(self) -> dict[str, Any]:
        """The settings the stack was built from, recorded in the template's Metadata.

        ``--check`` compares this with the current settings, so a drifted stack is
        noticed before uploads start failing.
        """
        return {
            "BUCKET": self.bucket_name,
            "TEMP_PREFIX": self.temp_prefix,
            "IMAGE_PREFIX": self.image_prefix,
            "VARIANTS": list(self.variants),
            "BLUR": self.blur,
            "BLUR_RADIUS": self.blur_radius,
            "CALLBACK_URL": self.callback_url,
            "MAX_UPLOAD_BYTES": self.max_upload_bytes,
            "CACHE_CONTROL": self.cache_control,
        }


#: Where ``default_cors_origins`` found its origins, as the summary names them.
CORS_FROM_DEPLOY_SETTING = "ASYNC_IMAGE_UPLOAD['DEPLOY_CORS_ORIGINS']"
CORS_FROM_CSRF = "CSRF_TRUSTED_ORIGINS"
_ORIGIN = re.compile(r"^https?://[^/\s]+$")


def default_cors_origins() -> tuple[tuple[str, ...], str]:
    """The bucket's CORS origins when ``--cors-origin`` is not given, and their source.

    ``DEPLOY_CORS_ORIGINS`` first; else Django's ``CSRF_TRUSTED_ORIGINS``, the
    origins the project already trusts to POST forms to it (the same pages
    post photos to the bucket; S3 accepts their ``https://*.example.com``
    wildcards too). ``((), "")`` when both are empty: no browser can upload.
    """
    from django.conf import settings

    from async_image_upload.conf import upload_settings

    explicit = tuple(upload_settings.DEPLOY_CORS_ORIGINS or ())
    if explicit:
        return explicit, CORS_FROM_DEPLOY_SETTING
    trusted = tuple(
        origin.rstrip("/")
        for origin in getattr(settings, "CSRF_TRUSTED_ORIGINS", ()) or ()
        if _ORIGIN.match(origin.rstrip("/"))
    )
    if trusted:
        return tuple(dict.fromkeys(trusted)), CORS_FROM_CSRF
    return (), ""


def config_from_settings(**options: Any) -> StackConfig:
    """Build a :class:`StackConfig` from ``ASYNC_IMAGE_UPLOAD`` plus explicit options.

    Options that are ``None`` fall back to the settings (and then to the defaults);
    ``bucket_name`` falls back to ``BUCKET``. The ``DEPLOY_*`` settings give
    defaults for the deploy options, so they can be set once in settings instead of
    on every command line.
    """
    from async_image_upload.conf import upload_settings

    from_settings: dict[str, Any] = {
        "bucket_name": upload_settings.BUCKET or "",
        "region": upload_settings.REGION,
        "callback_url": upload_settings.CALLBACK_URL or "",
        "temp_prefix": upload_settings.TEMP_PREFIX,
        "image_prefix": upload_settings.IMAGE_PREFIX,
        "variants": tuple(upload_settings.VARIANTS),
        "blur": bool(upload_settings.BLUR),
        "blur_radius": int(upload_settings.BLUR_RADIUS),
        "max_upload_bytes": int(upload_settings.MAX_UPLOAD_BYTES),
        "cors_origins": default_cors_origins()[0],
        "stack_name": upload_settings.DEPLOY_STACK_NAME,
        "memory_mb": upload_settings.DEPLOY_MEMORY_MB,
        "architecture": upload_settings.DEPLOY_ARCHITECTURE,
        "reserved_concurrency": upload_settings.DEPLOY_RESERVED_CONCURRENCY,
    }
    merged = {k: v for k, v in from_settings.items() if v is not None}
    for key, value in options.items():
        if value is None or (key == "cors_origins" and not value):
            continue
        merged[key] = tuple(value) if isinstance(value, list) else value
    if "cache_control" not in merged:
        from async_image_upload.cache_control import cache_control_from_settings

        merged["cache_control"] = cache_control_from_settings(
            cdn=bool(merged.get("cdn")), cdn_signed=bool(merged.get("cdn_public_key"))
        )
    if merged.get("memory_mb") == "recommended":
        merged["memory_mb"] = _recommended_memory(merged.get("architecture", DEFAULT_ARCHITECTURE))
    try:
        return StackConfig(**merged)
    except TypeError as exc:  # an unknown option name is a programming error, say which
        raise ConfigError(str(exc)) from exc


def _recommended_memory(architecture: str) -> int:
    """Memory from ``thumbnail_cost_report --write-recommendation`` (docs/tuning.md)."""
    from async_image_upload.tuning.recommendation import (
        RecommendationError,
        read_recommended_memory,
    )

    try:
        return read_recommended_memory(architecture)
    except RecommendationError as exc:
        raise ConfigError(str(exc)) from None
