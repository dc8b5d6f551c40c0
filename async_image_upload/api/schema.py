"""OpenAPI annotations that work with or without drf-spectacular installed."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

try:
    from drf_spectacular.utils import OpenApiExample, extend_schema
except ImportError:  # drf-spectacular is an optional extra
    OpenApiExample = None

    def extend_schema(*args: Any, **kwargs: Any) -> Callable[[Any], Any]:
        return lambda view: view


def example(name: str, value: Any, **kwargs: Any) -> list[Any]:
    """A one-item examples list, or nothing when drf-spectacular is absent."""
    if OpenApiExample is None:
        return []
    return [OpenApiExample(name, value=value, **kwargs)]
