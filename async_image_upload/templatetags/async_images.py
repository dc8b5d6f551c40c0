"""``{% load async_images %}``: ``{% async_img %}`` and ``{% async_img_script %}``.

``{% async_img photo.image sizes="(max-width: 600px) 100vw, 400px" alt=photo.title %}``
renders :func:`async_image_upload.display.render_img`; docs/display.md lists
the arguments. Any keyword the tag does not know becomes an attribute
(``data_id=photo.pk`` → ``data-id="…"``).
"""

from __future__ import annotations

from typing import Any

from django import template
from django.templatetags.static import static
from django.utils.html import format_html
from django.utils.safestring import SafeString

from async_image_upload.display import render_img

register = template.Library()

#: The optional script that clears placeholders once images load.
SCRIPT = "async_image_upload/async_img.js"


@register.simple_tag
def async_img(
    image: Any,
    *,
    alt: str = "",
    sizes: str | None = None,
    variant: str | None = None,
    width: int | None = None,
    height: int | None = None,
    loading: str | None = "lazy",
    decoding: str | None = "async",
    placeholder: bool = True,
    **attrs: Any,
) -> SafeString:
    """A responsive ``<img>`` for an ``AsyncImageField`` value (see ``render_img``)."""
    return render_img(
        image,
        alt="" if alt is None else str(alt),
        sizes=sizes or None,
        variant=variant or None,
        width=width or None,
        height=height or None,
        loading=loading or None,
        decoding=decoding or None,
        placeholder=bool(placeholder),
        attrs=attrs,
    )


@register.simple_tag
def async_img_script() -> SafeString:
    """``<script defer>`` for ``async_img.js``, by the URL the static storage gives it."""
    return format_html('<script src="{}" defer></script>', static(SCRIPT))
