"""What the report runs on: the photos a user points at, and the spec their uploads get."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from async_image_upload._memory_table import WorstCase

#: File suffixes picked up when walking a folder (a file named explicitly is always tried).
PHOTO_SUFFIXES = frozenset(
    {".jpg", ".jpeg", ".png", ".webp", ".gif", ".heic", ".heif", ".avif", ".jfif"}
)


def find_photos(paths: Iterable[Path]) -> list[Path]:
    """Files named directly, plus photo-looking files anywhere under named folders.

    Hidden files and folders are skipped; a missing path raises FileNotFoundError
    so a typo is not silently an empty report.
    """
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found += sorted(
                candidate
                for candidate in path.rglob("*")
                if candidate.is_file()
                and candidate.suffix.lower() in PHOTO_SUFFIXES
                and not any(part.startswith(".") for part in candidate.relative_to(path).parts)
            )
        elif path.is_file():
            found.append(path)
        else:
            raise FileNotFoundError(f"no such file or folder: {path}")
    return list(dict.fromkeys(found))


def spec_from_settings() -> dict[str, Any]:
    """The pipeline spec an upload made with the current settings gets, as JSON-ready data.

    Mirrors what reaches the Lambda: the presigned POST pins VARIANTS and the blur
    radius in the object's metadata, and MAX_UPLOAD_BYTES becomes MAX_SOURCE_BYTES.
    Everything else keeps the Lambda's defaults.
    """
    from async_image_upload.conf import upload_settings

    return {
        "variants": list(upload_settings.VARIANTS),
        "blur_radius": int(upload_settings.BLUR_RADIUS) if upload_settings.BLUR else 0,
        "max_bytes": int(upload_settings.MAX_UPLOAD_BYTES),
    }


def settings_worst_case() -> WorstCase | None:
    """The most memory-hungry upload the current settings allow, by the Lambda's estimate."""
    from async_image_upload._memory_table import worst_case
    from async_image_upload.conf import upload_settings

    return worst_case(
        list(upload_settings.ALLOWED_CONTENT_TYPES),
        list(upload_settings.VARIANTS),
        int(upload_settings.MAX_UPLOAD_BYTES),
    )
