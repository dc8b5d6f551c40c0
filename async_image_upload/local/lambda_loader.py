"""Import the bundled Lambda package wherever this installation keeps it."""

from __future__ import annotations

import importlib
from types import ModuleType


def import_lambda_module(name: str) -> ModuleType:
    """``name`` inside the Lambda package (e.g. ``"handler"``).

    An installed wheel ships it as ``async_image_upload._lambda_source.lambda_function``
    (so it cannot shadow a user's own ``lambda_function``); a source checkout has
    it at the top level.
    """
    for package in ("async_image_upload._lambda_source.lambda_function", "lambda_function"):
        try:
            return importlib.import_module(f"{package}.{name}")
        except ModuleNotFoundError as exc:
            if exc.name and not (package.startswith(exc.name) or exc.name.startswith(package)):
                raise  # the Lambda was found but something it imports is missing
    raise ModuleNotFoundError("The bundled Lambda package is not installed with this app.")
