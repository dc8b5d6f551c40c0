"""Showing an uploaded photo: a responsive ``<img>`` and the same facts as data.

:func:`image_display` picks what a page needs from an :class:`AsyncImage`
(``src``, ``srcset``, ``sizes``, ``width``/``height`` and the inline
placeholder); :func:`render_img` turns that into markup. The template tag
``{% async_img %}`` (``templatetags/async_images.py``), the DRF field
``AsyncImageDisplayField`` and the admin widget all go through these two, so
they agree. docs/display.md describes the arguments and the escaping.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.utils.safestring import SafeString

from async_image_upload._markup import attribute_name, css_string, is_safe_url, render_attributes
from async_image_upload.values import AsyncImage, Variant, srcset_url
from async_image_upload.variants import ORIGINAL, is_valid_placeholder

#: Attributes the tag computes itself; a template may not pass them.
RESERVED_ATTRIBUTES = frozenset({"src", "srcset", "sizes", "width", "height"})
#: The CSS class of the box rendered for an upload that has nothing to show yet.
PENDING_CLASS = "async-img-pending"
#: What marks an ``<img>`` whose placeholder ``async_img.js`` clears once it has loaded.
PLACEHOLDER_ATTRIBUTE = "data-async-img-placeholder"


@dataclass(frozen=True)
class ImageDisplay:
    """What a page shows for one upload; ``src`` is None until the upload is ready.

    ``status`` is the upload's (None when the row is gone). ``placeholder`` is
    the inline ``data:`` URI, or None when there is none or the stored value
    is not one the callback would accept.
    """

    id: str
    status: str | None
    src: str | None
    srcset: str
    sizes: str | None
    width: int | None
    height: int | None
    placeholder: str | None
    variants: tuple[Variant, ...] = field(default=(), repr=False)

    @property
    def is_ready(self) -> bool:
        return self.src is not None


def default_sizes(loading: str | None) -> str:
    """``auto`` (the laid-out width) where the browser may use it, else the full viewport.

    Browsers accept ``sizes="auto"`` only on lazy images; ``100vw`` after it is
    what older ones read (and the HTML default when ``sizes`` is missing).
    """
    return "auto, 100vw" if loading == "lazy" else "100vw"


def image_display(
    image: AsyncImage | None,
    *,
    variant: str | None = None,
    sizes: str | None = None,
    width: int | None = None,
    height: int | None = None,
    loading: str | None = "lazy",
) -> ImageDisplay | None:
    """The facts behind ``<img>`` for ``image``; None for no value or a deleted upload.

    ``src`` is ``variant`` when given and stored, else the widest plain variant
    that is not the original (the original may be the full camera image), else
    the original. ``srcset`` lists every plain variant by its width, with URLs
    that are not http(s) or relative left out. ``width``/``height`` are the
    ``src`` variant's display size; give one of them to scale the other by the
    image's aspect ratio, or both to set them.
    """
    if image is None:
        return None
    upload = image.upload
    if upload is None:
        return None
    placeholder = upload.placeholder if is_valid_placeholder(upload.placeholder) else None
    # Each URL is built (signed) once, however many attributes it appears in.
    urls = {v.name: v.url for v in image.by_width()}
    plain = [v for v in image.by_width() if is_safe_url(urls[v.name])]
    chosen = _default_variant(image, plain, variant)
    if chosen is None:
        return ImageDisplay(
            id=str(image.id),
            status=upload.status,
            src=None,
            srcset="",
            sizes=None,
            width=None,
            height=None,
            placeholder=placeholder,
        )
    shown_width, shown_height = _scaled(chosen, width, height)
    return ImageDisplay(
        id=str(image.id),
        status=upload.status,
        src=urls.get(chosen.name) or chosen.url,
        srcset=", ".join(f"{srcset_url(urls[v.name])} {v.display_width}w" for v in plain),
        sizes=sizes or default_sizes(loading),
        width=shown_width,
        height=shown_height,
        placeholder=placeholder,
        variants=tuple(image.variants),
    )


def _default_variant(image: AsyncImage, plain: list[Variant], name: str | None) -> Variant | None:
    if name is not None:
        named = image.variant(name)
        if named is not None and is_safe_url(named.url):
            return named
    smaller = [v for v in plain if v.name != ORIGINAL]
    if smaller:
        return smaller[-1]
    return plain[-1] if plain else None


def _scaled(variant: Variant, width: int | None, height: int | None) -> tuple[int, int]:
    natural_width, natural_height = variant.display_width, variant.display_height
    if width and height:
        return int(width), int(height)
    if width:
        return int(width), max(1, round(int(width) * natural_height / natural_width))
    if height:
        return max(1, round(int(height) * natural_width / natural_height)), int(height)
    return natural_width, natural_height


def render_img(
    image: AsyncImage | None,
    *,
    alt: str = "",
    sizes: str | None = None,
    variant: str | None = None,
    width: int | None = None,
    height: int | None = None,
    loading: str | None = "lazy",
    decoding: str | None = "async",
    placeholder: bool = True,
    attrs: Mapping[str, Any] | None = None,
) -> SafeString:
    """The ``<img>`` for ``image``, every value escaped for where it goes.

    - Ready: ``<img src srcset sizes width height alt loading decoding>``, with
      the inline placeholder as a CSS background (``placeholder=False`` drops
      it) that ``async_img.js`` clears once the image has loaded.
    - Pending, expired, failed, or ready without a usable variant: a ``<span
      class="async-img-pending" data-status="…">`` box (with the placeholder as
      background if there is one), ``role="img"`` and the alt text as its label.
    - No value, or the upload row is gone: an empty string.

    ``attrs`` become further attributes (``data_id`` → ``data-id``; ``class``
    and ``style`` are kept, the placeholder's style first). ``loading`` or
    ``decoding`` None leaves the attribute out.
    """
    display = image_display(
        image, variant=variant, sizes=sizes, width=width, height=height, loading=loading
    )
    if display is None:
        return SafeString("")
    extra = _extra_attributes(attrs or {})
    user_style = extra.pop("style", None)
    style = _placeholder_style(display.placeholder) if placeholder else ""
    if user_style:
        style = f"{style}{user_style}"
    if not display.is_ready:
        classes = " ".join(filter(None, [PENDING_CLASS, extra.pop("class", None)]))
        label = [("role", "img"), ("aria-label", alt)] if alt else [("aria-hidden", "true")]
        attributes = render_attributes(
            [
                ("class", classes),
                ("data-status", display.status),
                *label,
                ("style", style or None),
                *extra.items(),
            ]
        )
        return SafeString(f"<span{attributes}></span>")
    attributes = render_attributes(
        [
            ("src", display.src),
            ("srcset", display.srcset),
            ("sizes", display.sizes),
            ("width", display.width),
            ("height", display.height),
            ("alt", alt),
            ("loading", loading),
            ("decoding", decoding),
            (PLACEHOLDER_ATTRIBUTE, bool(placeholder and display.placeholder)),
            ("style", style or None),
            *extra.items(),
        ]
    )
    return SafeString(f"<img{attributes}>")


def _extra_attributes(attrs: Mapping[str, Any]) -> dict[str, Any]:
    extra: dict[str, Any] = {}
    for name, value in attrs.items():
        html_name = attribute_name(name)
        if html_name in RESERVED_ATTRIBUTES:
            raise TypeError(f"{html_name!r} is computed from the upload; it cannot be passed.")
        extra[html_name] = value
    return extra


def _placeholder_style(placeholder: str | None) -> str:
    """The placeholder as a covering background; empty without one.

    ``placeholder`` passed :func:`is_valid_placeholder`, and is written as a
    CSS string anyway (``css_string``); the attribute escaping follows in
    ``render_attributes``.
    """
    if not placeholder:
        return ""
    return (
        f"background-image:url({css_string(placeholder)});"
        "background-size:cover;background-position:center;background-repeat:no-repeat;"
    )


def display_data(display: ImageDisplay | None) -> dict[str, Any] | None:
    """An :class:`ImageDisplay` as JSON data (``AsyncImageDisplayField``'s shape)."""
    if display is None:
        return None
    return {
        "id": display.id,
        "status": display.status,
        "src": display.src,
        "srcset": display.srcset,
        "sizes": display.sizes,
        "width": display.width,
        "height": display.height,
        "placeholder": display.placeholder,
    }
