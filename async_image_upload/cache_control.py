"""Which ``Cache-Control`` the Lambda writes on the output images, for these settings.

The outputs never change once reported (a new upload gets a new id), so every
mode says ``immutable``; what differs is who may cache them and for how long:

* ``presigned``: ``private``, and no longer than a URL lives
  (``URL_SIGNING_WINDOW + URL_EXPIRY``, see :func:`async_image_upload.s3.signing_window`).
  A shared proxy must not keep a private bucket's bytes, and a browser has no
  use for an entry whose URL has expired (the page then shows the next window's URL).
* ``custom_domain`` (a CDN): ``public`` for a year; the CDN and browsers keep it.
  With CloudFront signed URLs (``CLOUDFRONT_KEY_ID``) the browser's copy is
  bounded like a presigned URL's while CloudFront (``s-maxage``) keeps a year:
  CloudFront checks the signature before it looks in its cache.
* ``storage``: a year, ``public``, as before this setting existed. The storage
  decides who can read; one that signs its URLs (django-storages'
  ``querystring_auth``) should set ``CACHE_CONTROL`` explicitly, or use ``presigned``.

``CACHE_CONTROL`` overrides the rule. The deploy command and the local stack
both pass the result to the Lambda as ``OUTPUT_CACHE_CONTROL``.
"""

from __future__ import annotations

from async_image_upload.conf import upload_settings

ONE_YEAR = 365 * 24 * 60 * 60
PUBLIC_IMMUTABLE = f"public, max-age={ONE_YEAR}, immutable"


def output_cache_control(
    url_mode: str, *, signing_window: int, url_expiry: int, cdn_signed: bool = False
) -> str:
    """The rule itself, pure: the header value for one combination of settings."""
    url_life = int(signing_window) + int(url_expiry)
    if url_mode == "presigned":
        return f"private, max-age={url_life}, immutable"
    if url_mode == "custom_domain" and cdn_signed:
        return f"public, max-age={url_life}, s-maxage={ONE_YEAR}, immutable"
    return PUBLIC_IMMUTABLE


def cache_control_from_settings(*, cdn: bool = False, cdn_signed: bool = False) -> str:
    """The value for ``ASYNC_IMAGE_UPLOAD``, as the deploy (``--cdn``) is about to serve it.

    ``cdn`` counts as ``URL_MODE = "custom_domain"`` (a stack deployed with a CDN
    is read through it), ``cdn_signed`` as ``CLOUDFRONT_KEY_ID`` being set.
    """
    explicit = upload_settings.CACHE_CONTROL
    if explicit:
        return str(explicit)
    return output_cache_control(
        "custom_domain" if cdn else upload_settings.URL_MODE,
        signing_window=upload_settings.URL_SIGNING_WINDOW,
        url_expiry=upload_settings.URL_EXPIRY,
        cdn_signed=cdn_signed or bool(upload_settings.CLOUDFRONT_KEY_ID),
    )
