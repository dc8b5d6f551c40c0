"""System checks for misconfiguration. Ids are stable; docs/settings.md lists them."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlparse

from django.conf import settings
from django.core import checks
from rest_framework.settings import api_settings

from async_image_upload.conf import DEFAULTS, SETTINGS_NAME, upload_settings
from async_image_upload.variants import parse_variants

#: Content types the bundled Lambda can read (decided from the bytes, not this list).
KNOWN_CONTENT_TYPES = frozenset(DEFAULTS["ALLOWED_CONTENT_TYPES"])
URL_MODES = frozenset({"presigned", "storage", "custom_domain"})
TAG = "async_image_upload"
SIGV4_MAX_EXPIRY = 7 * 24 * 3600


def _error(msg: str, id_: str, hint: str | None = None, obj: Any = None) -> checks.Error:
    return checks.Error(msg, hint=hint, obj=obj, id=f"async_image_upload.{id_}")


def _warning(msg: str, id_: str, hint: str | None = None, obj: Any = None) -> checks.Warning:
    return checks.Warning(msg, hint=hint, obj=obj, id=f"async_image_upload.{id_}")


def _content_type_errors(types: Any, obj: Any = None) -> list[checks.CheckMessage]:
    if isinstance(types, str) or not types:
        return [_error("ALLOWED_CONTENT_TYPES must be a non-empty list.", "E004", obj=obj)]
    unknown = sorted(set(types) - KNOWN_CONTENT_TYPES)
    if unknown:
        return [
            _error(
                f"Unknown content types: {', '.join(unknown)}.",
                "E004",
                hint=f"The Lambda reads: {', '.join(sorted(KNOWN_CONTENT_TYPES))}.",
                obj=obj,
            )
        ]
    return []


def _variant_errors(variants: Any, obj: Any = None) -> list[checks.CheckMessage]:
    try:
        parse_variants(variants)
    except (ValueError, TypeError) as exc:
        return [_error(f"Invalid VARIANTS: {exc}", "E005", obj=obj)]
    return []


@checks.register(TAG)
def check_settings(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    user = getattr(settings, SETTINGS_NAME, {}) or {}
    messages: list[checks.CheckMessage] = []
    unknown = sorted(set(user) - set(DEFAULTS))
    if unknown:
        messages.append(
            _error(
                f"Unknown {SETTINGS_NAME} settings: {', '.join(unknown)}.",
                "E000",
                hint="See docs/settings.md for the list.",
            )
        )
        # No early return: a typo'd key does not stop the known ones being read,
        # and hiding every other problem behind it made users fix them one by one.
    s = upload_settings
    if not s.BUCKET:
        messages.append(
            _error(
                "No bucket is configured.",
                "E001",
                hint=f"Set {SETTINGS_NAME}['BUCKET'] or AWS_STORAGE_BUCKET_NAME.",
            )
        )
    temp, image = s.TEMP_PREFIX, s.IMAGE_PREFIX
    if not temp or not image or not temp.endswith("/") or not image.endswith("/"):
        messages.append(
            _error("TEMP_PREFIX and IMAGE_PREFIX must be non-empty and end with '/'.", "E003")
        )
    elif image.startswith(temp) or temp.startswith(image):
        messages.append(
            _error(
                f"IMAGE_PREFIX {image!r} and TEMP_PREFIX {temp!r} overlap.",
                "E002",
                hint="Outputs under the temp prefix would trigger the Lambda again, in a loop.",
            )
        )
    messages += _content_type_errors(s.ALLOWED_CONTENT_TYPES)
    messages += _variant_errors(s.VARIANTS)
    callback = s.CALLBACK_URL
    if not callback:
        messages.append(
            _warning(
                "No CALLBACK_URL: the Lambda cannot report results to Django.",
                "W001",
                hint="Set it to the absolute URL of the 'async_image_upload:callback' view.",
            )
        )
    else:
        scheme = urlparse(callback).scheme
        if scheme not in ("http", "https"):
            messages.append(_error(f"CALLBACK_URL {callback!r} is not an http(s) URL.", "E006"))
        elif scheme == "http" and not settings.DEBUG:
            messages.append(
                _warning(
                    "CALLBACK_URL uses plain http outside DEBUG.",
                    "W002",
                    hint="Callbacks carry upload results; serve them over https.",
                )
            )
    if s.URL_MODE not in URL_MODES:
        messages.append(_error(f"URL_MODE must be one of {', '.join(sorted(URL_MODES))}.", "E007"))
    elif s.URL_MODE == "custom_domain" and not (s.CUSTOM_DOMAIN or s.CDN_DOMAIN):
        messages.append(
            _error(
                "URL_MODE 'custom_domain' needs CUSTOM_DOMAIN or CDN_DOMAIN.",
                "E008",
                hint="deploy_thumbnail_stack --cdn prints the distribution's CDN_DOMAIN.",
            )
        )
    messages += cloudfront_signing_messages()
    invalid: set[str] = set()
    for name in (
        "MAX_UPLOAD_BYTES",
        "PRESIGN_EXPIRY",
        "UPLOAD_EXPIRY",
        "CALLBACK_MAX_AGE",
        "URL_EXPIRY",
        "URL_SIGNING_WINDOW",
    ):
        value = getattr(s, name)
        if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
            invalid.add(name)
            messages.append(_error(f"{name} must be a positive integer.", "E009"))
    if "PRESIGN_EXPIRY" not in invalid and s.PRESIGN_EXPIRY > SIGV4_MAX_EXPIRY:
        messages.append(_error("PRESIGN_EXPIRY cannot exceed 7 days (SigV4's limit).", "E010"))
    if (
        s.URL_MODE == "presigned"
        and not invalid & {"URL_EXPIRY", "URL_SIGNING_WINDOW"}
        and s.URL_SIGNING_WINDOW + s.URL_EXPIRY > SIGV4_MAX_EXPIRY
    ):
        messages.append(
            _error(
                "URL_SIGNING_WINDOW + URL_EXPIRY cannot exceed 7 days (SigV4's limit).",
                "E012",
                hint="A presigned URL is signed at its window's start and must stay valid "
                "URL_EXPIRY after the window's end; S3 refuses an expiry over 7 days.",
            )
        )
    if not s.callback_secrets:
        messages.append(_error("No callback secret: set SECRET_KEY or CALLBACK_SECRETS.", "E011"))
    if anonymous_uploads_allowed() and api_settings.NUM_PROXIES is None:
        messages.append(
            _warning(
                "Anonymous uploads are allowed and REST_FRAMEWORK['NUM_PROXIES'] is unset.",
                "W003",
                hint="DRF then keys anonymous throttles and the anonymous open-upload cap on "
                "X-Forwarded-For, which any client can set. Set NUM_PROXIES to the number "
                "of proxies in front of Django (0 for none).",
            )
        )
    return messages


def cloudfront_signing_messages() -> list[checks.CheckMessage]:
    """CloudFront signed URLs configured by halves, with a key that cannot sign, or unused."""
    s = upload_settings
    key_id, private_key = s.CLOUDFRONT_KEY_ID, s.CLOUDFRONT_PRIVATE_KEY
    messages: list[checks.CheckMessage] = []
    if s.CLOUDFRONT_SIGNING not in ("urls", "cookies"):
        messages.append(_error("CLOUDFRONT_SIGNING must be 'urls' or 'cookies'.", "E015", obj=None))
    if not key_id and not private_key:
        return messages
    if not key_id or not private_key:
        have, missing = (
            ("CLOUDFRONT_KEY_ID", "CLOUDFRONT_PRIVATE_KEY")
            if key_id
            else ("CLOUDFRONT_PRIVATE_KEY", "CLOUDFRONT_KEY_ID")
        )
        return [
            *messages,
            _error(
                f"{have} is set but {missing} is not: CloudFront signed URLs need both.",
                "E013",
                hint="CLOUDFRONT_KEY_ID is the CdnPublicKeyId the deploy printed; "
                "CLOUDFRONT_PRIVATE_KEY the PEM text of the matching private key. "
                "Set both, or neither for unsigned URLs.",
            ),
        ]
    from async_image_upload._cloudfront_signer import CloudFrontKeyError, load_private_key

    try:
        load_private_key(private_key)
    except CloudFrontKeyError as exc:
        return [
            *messages,
            _error(
                f"CLOUDFRONT_PRIVATE_KEY cannot sign: {exc}",
                "E014",
                hint="Pass the PEM text itself (e.g. read from a secret store), not a path.",
            ),
        ]
    if s.URL_MODE != "custom_domain":
        return [
            *messages,
            _warning(
                "CloudFront signing is configured but URL_MODE is not 'custom_domain', so "
                "no URL is signed with it.",
                "W006",
                hint="Set URL_MODE = 'custom_domain' to serve images through the CDN.",
            ),
        ]
    if s.CLOUDFRONT_SIGNING == "cookies" and not s.CUSTOM_DOMAIN:
        messages.append(
            _warning(
                "CLOUDFRONT_SIGNING = 'cookies' without CUSTOM_DOMAIN: browsers never send "
                "your site's cookies to the distribution's *.cloudfront.net name.",
                "W007",
                hint="Give the distribution a name under your site's domain (an alternate "
                "domain name with an ACM certificate) and set CUSTOM_DOMAIN to it, or use "
                "signed URLs ('urls').",
            )
        )
    return messages


def anonymous_uploads_allowed() -> bool:
    """Whether PERMISSION_CLASSES let an anonymous caller start an upload."""
    from django.contrib.auth.models import AnonymousUser
    from django.http import HttpRequest
    from rest_framework.request import Request
    from rest_framework.views import APIView

    django_request = HttpRequest()
    django_request.method = "POST"
    request = Request(django_request)
    request.user = AnonymousUser()
    # A plain view: permissions judge the request; importing the app's views here
    # would make checks depend on the whole API (and close an import cycle).
    view = APIView()
    try:
        return all(
            permission().has_permission(request, view)
            for permission in upload_settings.PERMISSION_CLASSES
        )
    except Exception:  # a project's permission that needs more than this: cannot tell
        return False


def check_field_options(field: Any) -> list[checks.CheckMessage]:
    """Checks for one AsyncImageField's own options."""
    messages: list[checks.CheckMessage] = []
    if field.variants is not None:
        messages += _variant_errors(field.variants, obj=field)
    if field.allowed_content_types is not None:
        messages += _content_type_errors(field.allowed_content_types, obj=field)
    if field.max_upload_bytes is not None and (
        not isinstance(field.max_upload_bytes, int) or field.max_upload_bytes <= 0
    ):
        messages.append(_error("max_upload_bytes must be a positive integer.", "E009", obj=field))
    return messages
