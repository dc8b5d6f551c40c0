"""Modules imported on first use, so a cold start pays only for what an upload needs.

Lambda bills INIT, and the handler's import is INIT. Colour management
(``PIL.ImageCms``, LittleCMS: only for images with a non-sRGB ICC profile) and
``PIL.ImageMath`` (only for 16-bit greys with a transparent key) are needed by
few uploads, so the pipeline reaches them through a :class:`LazyModule` that
imports the real module on the first attribute read. Nothing is put in
``sys.modules`` before that (unlike ``importlib.util.LazyLoader``), so a test can
check what INIT really loaded. The first read happens inside the record's
watched worker (:mod:`.deadline`), so its cost counts against the same budget
as the decode that needs it.
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any


class LazyModule:
    """Stands in for module ``name`` until an attribute is read, then forwards every read."""

    def __init__(self, name: str) -> None:
        self._name = name

    def load(self) -> ModuleType:
        """The real module, imported now if it is not yet (under the import system's lock)."""
        return importlib.import_module(self._name)

    def __getattr__(self, attribute: str) -> Any:
        return getattr(self.load(), attribute)

    def __repr__(self) -> str:
        return f"<lazy module {self._name!r}>"


#: LittleCMS colour conversion: images with an embedded, non-sRGB ICC profile.
ImageCms = LazyModule("PIL.ImageCms")
#: Pillow's pixel expressions: 16-bit grey images with a transparent key.
ImageMath = LazyModule("PIL.ImageMath")
