"""Configuration from environment variables, parsed once per cold start.

The names of the original deployment (``THUMB_DIMENSION_*``, ``BLUR``,
``BLUR_RADIUS``, ``IMAGE_FOLDER``, ``CALLBACK_URL``) keep their meaning; the
rest are new. docs/lambda.md is the reference. A bad value raises
:class:`ConfigError` naming the variable, so a broken deploy fails on its first
invocation instead of producing odd images.
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from .errors import ConfigError
from .limits import MAX_BLUR_RADIUS, MAX_BOX
from .outputs import OUTPUTS
from .secret import resolve_callback_secret

#: ``auto`` follows the source (docs/lambda.md); the rest name a row of the outputs table.
OUTPUT_FORMATS = ("auto", *OUTPUTS)
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}
_HEX_COLOUR = re.compile(r"#?([0-9a-fA-F]{6})")
#: What outputs carried before OUTPUT_CACHE_CONTROL existed, so an old deployment
#: (which does not set it) serves its images exactly as before.
DEFAULT_CACHE_CONTROL = "public, max-age=31536000, immutable"
#: A header value: printable ASCII, no CR/LF (S3 would refuse it or split the header).
_HEADER_VALUE = re.compile(r"[\x20-\x7e]{1,1024}")


@dataclass(frozen=True)
class Config:
    """Everything the handler needs to know about its deployment."""

    temp_prefix: str
    image_prefix: str
    default_variants: tuple[str, ...]
    blur_radius: int
    callback_url: str
    callback_secret: str
    callback_timeout: float
    callback_max_attempts: int
    output_format: str
    quality: int
    max_source_bytes: int
    max_pixels: int
    max_animation_pixels: int
    keep_source: bool
    background: tuple[int, int, int]
    s3_endpoint_url: str | None
    #: The function's memory size in MB (the memory budget); None outside Lambda
    #: and the local stack, where nothing is killed for its size.
    memory_mb: int | None = None
    #: ``Cache-Control`` of every output image; Django's settings decide it
    #: (async_image_upload/cache_control.py), the deploy passes it in.
    cache_control: str = DEFAULT_CACHE_CONTROL


def _int(env: Mapping[str, str], name: str, default: int, minimum: int, maximum: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be an integer, got {raw!r}") from None
    if not minimum <= value <= maximum:
        raise ConfigError(f"{name} must be between {minimum} and {maximum}, got {value}")
    return value


def _float(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a number, got {raw!r}") from None
    if not 0 < value <= 60:
        raise ConfigError(f"{name} must be between 0 and 60 seconds, got {value}")
    return value


def _bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    if name not in env:
        return default
    raw = env[name].strip().lower()
    if raw in _TRUE:
        return True
    if raw in _FALSE:
        return False
    raise ConfigError(f"{name} must be one of on/off, true/false, 1/0, got {env[name]!r}")


def _prefix(env: Mapping[str, str], name: str, default: str) -> str:
    value = env.get(name, "").strip() or default
    if value.startswith("/") or ".." in value.split("/"):
        raise ConfigError(f"{name} must be a relative key prefix like {default!r}, got {value!r}")
    return value


Colour = tuple[int, int, int]


def _colour(env: Mapping[str, str], name: str, default: Colour) -> Colour:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    match = _HEX_COLOUR.fullmatch(raw)
    if not match:
        raise ConfigError(f"{name} must be a hex colour like #ffffff, got {raw!r}")
    digits = match.group(1)
    return (int(digits[0:2], 16), int(digits[2:4], 16), int(digits[4:6], 16))


def _cache_control(env: Mapping[str, str]) -> str:
    raw = env.get("OUTPUT_CACHE_CONTROL", "").strip()
    if not raw:
        return DEFAULT_CACHE_CONTROL
    if not _HEADER_VALUE.fullmatch(raw):
        raise ConfigError(
            "OUTPUT_CACHE_CONTROL must be a Cache-Control header value (printable ASCII, "
            f"at most 1024 characters), got {raw!r}"
        )
    return raw


def _memory_mb(env: Mapping[str, str]) -> int | None:
    """Lambda's own ``AWS_LAMBDA_FUNCTION_MEMORY_SIZE``, else ``FUNCTION_MEMORY_MB`` (local stack).

    Lambda sets the first from the function's configuration, so a memory change
    in the console is honoured without touching the environment we deploy.
    """
    for name in ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "FUNCTION_MEMORY_MB"):
        if env.get(name, "").strip():
            return _int(env, name, 0, 128, 10240)
    return None


def load_config(env: Mapping[str, str]) -> Config:
    """Build and validate a :class:`Config` from an environment mapping."""
    temp_prefix = _prefix(env, "TEMP_FOLDER", "temp/")
    image_prefix = _prefix(env, "IMAGE_FOLDER", "image/")
    # Outputs under the temp prefix would trigger the Lambda again, forever.
    if image_prefix.startswith(temp_prefix):
        raise ConfigError(
            f"IMAGE_FOLDER ({image_prefix!r}) must not lie under TEMP_FOLDER ({temp_prefix!r})"
        )
    dimensions = [
        _int(env, f"THUMB_DIMENSION_{size}", default, 1, MAX_BOX)
        for size, default in (("SMALL", 50), ("MEDIUM", 100), ("LARGE", 400))
    ]
    variants = (*dict.fromkeys(f"{d}x{d}" for d in dimensions), "original")
    blur = _bool(env, "BLUR", True)
    blur_radius = _int(env, "BLUR_RADIUS", 20, 0, MAX_BLUR_RADIUS) if blur else 0

    callback_url = env.get("CALLBACK_URL", "").strip()
    # The value locally; deployed, fetched from CALLBACK_SECRET_ARN (lambda_function/secret.py).
    callback_secret = resolve_callback_secret(env)
    if callback_url:
        parts = urlsplit(callback_url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ConfigError(f"CALLBACK_URL must be an http(s) URL, got {callback_url!r}")
        if not callback_secret:
            raise ConfigError("CALLBACK_SECRET is required when CALLBACK_URL is set")

    output_format = env.get("OUTPUT_FORMAT", "").strip().lower() or "auto"
    if output_format not in OUTPUT_FORMATS:
        raise ConfigError(f"OUTPUT_FORMAT must be one of {', '.join(OUTPUT_FORMATS)}")

    max_pixels = _int(env, "MAX_PIXELS", 50_000_000, 1, 500_000_000)
    return Config(
        temp_prefix=temp_prefix,
        image_prefix=image_prefix,
        default_variants=variants,
        blur_radius=blur_radius,
        callback_url=callback_url,
        callback_secret=callback_secret,
        callback_timeout=_float(env, "CALLBACK_TIMEOUT", 5.0),
        callback_max_attempts=_int(env, "CALLBACK_MAX_ATTEMPTS", 5, 1, 20),
        output_format=output_format,
        quality=_int(env, "OUTPUT_QUALITY", 82, 1, 100),
        max_source_bytes=_int(env, "MAX_SOURCE_BYTES", 20 * 1024 * 1024, 1, 2**33),
        max_pixels=max_pixels,
        max_animation_pixels=_int(
            env, "MAX_ANIMATION_PIXELS", 5 * max_pixels, max_pixels, 5_000_000_000
        ),
        keep_source=_bool(env, "KEEP_SOURCE", False),
        background=_colour(env, "BACKGROUND", (255, 255, 255)),
        memory_mb=_memory_mb(env),
        cache_control=_cache_control(env),
        s3_endpoint_url=(
            env.get("S3_ENDPOINT_URL", "").strip()
            or env.get("AWS_ENDPOINT_URL_S3", "").strip()
            or None
        ),
    )


@functools.cache
def get_config() -> Config:
    """The process-wide configuration, read on first use (cold start), then cached.

    Tests call ``get_config.cache_clear()`` after changing the environment.
    """
    return load_config(os.environ)
