"""What users get when they read an ``AsyncImageField``: an :class:`AsyncImage`.

``models`` imports this module (``ImageUpload.as_image``), so this one never
imports ``models``: it finds the upload model through Django's app registry.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.apps import apps

if TYPE_CHECKING:
    from async_image_upload.models import ImageUpload


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

    __slots__ = ("_upload", "id")

    def __init__(self, upload_id: uuid.UUID, upload: ImageUpload | None = None) -> None:
        self.id = upload_id
        self._upload = upload

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

    @property
    def variants(self) -> list[Variant]:
        upload = self.upload
        if not upload or not upload.is_ready:
            return []
        return [Variant.from_dict(item) for item in upload.variants]

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
        for item in self.variants:
            if item.name == name and item.blurred == blurred:
                return item
        return None

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
        by_width: dict[int, Variant] = {}
        for item in self.variants:
            if item.blurred == blurred:
                by_width.setdefault(item.display_width, item)
        return ", ".join(f"{by_width[w].url} {w}w" for w in sorted(by_width))


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
