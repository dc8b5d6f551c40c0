"""Stable error codes shared with Django through the callback (docs/contract.md)."""

from __future__ import annotations

from enum import StrEnum


class ErrorCode(StrEnum):
    """Why an image could not be processed; the values never change."""

    UNSUPPORTED_FORMAT = "unsupported_format"
    TOO_MANY_PIXELS = "too_many_pixels"
    TOO_LARGE = "too_large"
    CORRUPT = "corrupt"
    EMPTY = "empty"
    NOT_FOUND = "not_found"
    ANIMATION_TOO_LARGE = "animation_too_large"
    #: More scans, segments, chunks, blocks or boxes than any real file holds (a flood).
    TOO_COMPLEX = "too_complex"
    #: Processing did not finish before the function's deadline.
    PROCESSING_TIMEOUT = "processing_timeout"
    #: Even the cheapest decode would not fit the function's memory (memory_budget.py).
    TOO_MUCH_MEMORY = "too_much_memory"


class ImageError(Exception):
    """A permanent problem with the uploaded bytes: reported, never retried."""

    def __init__(self, code: ErrorCode, message: str) -> None:
        super().__init__(f"{code.value}: {message}")
        self.code = code
        self.message = message


class ConfigError(Exception):
    """The Lambda's environment is wrong; raised at cold start so a deploy fails loudly."""


class CallbackError(Exception):
    """The callback endpoint did not accept the result; raised so Lambda retries the event."""
