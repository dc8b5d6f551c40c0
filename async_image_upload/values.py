"""What users get when they read an ``AsyncImageField``: an :class:`AsyncImage`.

``models`` imports this module (``ImageUpload.as_image``), so this one never
imports ``models``: it finds the upload model through Django's app registry.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from django.apps import apps

if TYPE_CHECKING:
    from async_image_upload.models import ImageUpload


#: What separates ``srcset`` entries: a comma, or whitespace between a URL and its width.
_SRCSET_UNSAFE = re.compile(r"[,\s]")


def _upload_model() -> type[ImageUpload]:
    return apps.get_model("async_image_upload", "ImageUpload")


@dataclass(frozen=True)
class Variant:
    """One stored output of the Lambda, as the callback reported it."""

    name: str
    key: str
    blurred: bool
    width: int
    height: int
    display_width: int
    display_height: int
    bytes: int
    content_type: str

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Variant:
        width, height = int(data["width"]), int(data["height"])
        return cls(
            name=str(data["name"]),
            key=str(data["key"]),
            blurred=bool(data.get("blurred", False)),
            width=width,
            height=height,
            display_width=int(data.get("display_width") or width),
            display_height=int(data.get("display_height") or height),
            bytes=int(data.get("bytes") or 0),
            content_type=str(data.get("content_type") or ""),
        )

    @property
    def url(self) -> str:
        from async_image_upload.s3 import object_url

        return object_url(self.key)


class AsyncImage:
    """An uploaded photo and its variants.

    Holds the upload id and loads the :class:`ImageUpload` row on first use, so
    ``photo.image.id`` costs no query. Use :func:`prefetch_uploads` to load many
    at once.
    """

    __slots__ = ("_parsed", "_upload", "id")

    def __init__(self, upload_id: uuid.UUID, upload: ImageUpload | None = None) -> None:
        self.id = upload_id
        self._upload = upload
        self._parsed: _ParsedVariants | None = None

    def __repr__(self) -> str:
        return f"<AsyncImage {self.id}>"

    def __eq__(self, other: object) -> bool:
        if isinstance(other, AsyncImage):
            return self.id == other.id
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self.id)

    def __str__(self) -> str:
        return str(self.id)

    @property
    def upload(self) -> ImageUpload | None:
        """The upload row, or None if it was deleted."""
        if self._upload is None:
            self._upload = _upload_model().objects.filter(pk=self.id).first()
        return self._upload

    @property
    def status(self) -> str | None:
        upload = self.upload
        return upload.status if upload else None

    @property
    def is_ready(self) -> bool:
        upload = self.upload
        return bool(upload and upload.is_ready)

    def _parsed_variants(self) -> _ParsedVariants:
        """The ready upload's variants, parsed once per value and kept while the row is unchanged.

        A page asks one value for several URLs (``srcset()``, ``blur_url()``, the
        ``<img>`` tag); parsing the JSON list each time cost more than signing
        the URLs (docs/performance.md). The cache is this instance's own and is
        keyed on the identity of the row object, its ``variants`` list and its
        status: ``transition()``, ``refresh_from_db()`` and ``prefetch_uploads``
        all put new objects there, so a changed upload is parsed again. (Editing
        the loaded list in place is not seen; nothing in the app does.)
        """
        upload = self.upload
        parsed = self._parsed
        if upload is None:
            return _EMPTY
        raw, status = upload.variants, upload.status
        if (
            parsed is not None
            and parsed.upload is upload
            and parsed.raw is raw
            and parsed.status == status
        ):
            return parsed
        items = tuple(Variant.from_dict(item) for item in raw) if upload.is_ready else ()
        parsed = _ParsedVariants(upload, raw, status, items)
        self._parsed = parsed
        return parsed

    @property
    def variants(self) -> list[Variant]:
        """The stored outputs; empty until the upload is ready."""
        return list(self._parsed_variants().items)

    @property
    def placeholder(self) -> str:
        upload = self.upload
        return upload.placeholder if upload else ""

    @property
    def width(self) -> int | None:
        upload = self.upload
        return upload.source_width if upload else None

    @property
    def height(self) -> int | None:
        upload = self.upload
        return upload.source_height if upload else None

    def variant(self, name: str = "original", *, blurred: bool = False) -> Variant | None:
        return self._parsed_variants().by_name.get((name, blurred))

    def by_width(self, *, blurred: bool = False) -> tuple[Variant, ...]:
        """Plain (or blurred) variants, one per display width, narrowest first."""
        parsed = self._parsed_variants()
        return parsed.blurred_by_width if blurred else parsed.plain_by_width

    def url(self, name: str = "original") -> str | None:
        """URL of a sharp variant, or None until the upload is ready."""
        found = self.variant(name)
        return found.url if found else None

    def blur_url(self, name: str = "original") -> str | None:
        """URL of a blurred variant, or None if there is none."""
        found = self.variant(name, blurred=True)
        return found.url if found else None

    def srcset(self, *, blurred: bool = False) -> str:
        """An ``<img srcset>`` value listing every variant by its width."""
        return ", ".join(
            f"{srcset_url(v.url)} {v.display_width}w" for v in self.by_width(blurred=blurred)
        )


def srcset_url(url: str) -> str:
    """``url`` made safe inside a ``srcset`` list, where commas and whitespace separate entries.

    Percent-encoding them changes no S3 key or signature: signed paths and
    query values are already encoded, so these characters only appear in a URL
    a custom storage built.
    """
    # Three scans in C: only a space or a comma is printable among the separators.
    if "," not in url and " " not in url and url.isprintable():
        return url
    return _SRCSET_UNSAFE.sub(lambda found: quote(found[0], safe=""), url)


class _ParsedVariants:
    """One value's parsed variants and the lookups built from them (see ``_parsed_variants``)."""

    __slots__ = (
        "blurred_by_width",
        "by_name",
        "items",
        "plain_by_width",
        "raw",
        "status",
        "upload",
    )

    def __init__(self, upload: Any, raw: Any, status: Any, items: tuple[Variant, ...]) -> None:
        self.upload, self.raw, self.status, self.items = upload, raw, status, items
        self.by_name: dict[tuple[str, bool], Variant] = {}
        for item in items:
            self.by_name.setdefault((item.name, item.blurred), item)
        self.plain_by_width = _one_per_width(items, blurred=False)
        self.blurred_by_width = _one_per_width(items, blurred=True)


def _one_per_width(items: tuple[Variant, ...], *, blurred: bool) -> tuple[Variant, ...]:
    by_width: dict[int, Variant] = {}
    for item in items:
        if item.blurred == blurred:
            by_width.setdefault(item.display_width, item)
    return tuple(by_width[width] for width in sorted(by_width))


_EMPTY = _ParsedVariants(None, None, None, ())


def prefetch_uploads(objects: Iterable[Any], *field_names: str) -> None:
    """Load the uploads behind ``field_names`` for many model instances in one query."""
    values: list[AsyncImage] = []
    for obj in objects:
        for name in field_names:
            value = getattr(obj, name)
            if isinstance(value, AsyncImage) and value._upload is None:
                values.append(value)
    if not values:
        return
    rows = _upload_model().objects.in_bulk([v.id for v in values])
    for value in values:
        value._upload = rows.get(value.id)
