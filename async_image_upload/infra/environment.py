"""The Lambda's environment variables, derived from the same config as Django's.

The names are the Lambda's (``lambda_function/config.py``); the values come from
``ASYNC_IMAGE_UPLOAD`` so the two sides cannot disagree. The environment holds
only *defaults*: each upload's presigned POST pins its own variants and blur
radius in object metadata (docs/contract.md).
"""

from __future__ import annotations

from typing import Any

from troposphere import Ref

from async_image_upload.infra.config import StackConfig

#: The Lambda's default variants are three square boxes plus ``original``.
DIMENSION_NAMES = ("SMALL", "MEDIUM", "LARGE")


def default_dimensions(variants: tuple[str, ...]) -> tuple[int, ...]:
    """Box sizes for ``THUMB_DIMENSION_*``: the three smallest ``WxH`` variants.

    A non-square box becomes its longer side (the env var holds one number); with
    fewer than three sizes the largest repeats, which the Lambda de-duplicates.
    """
    sizes = sorted({max(int(n) for n in v.split("x")) for v in variants if v != "original"})
    if not sizes:
        return ()
    padded = (sizes + [sizes[-1]] * len(DIMENSION_NAMES))[: len(DIMENSION_NAMES)]
    return tuple(padded)


def lambda_environment(
    config: StackConfig, *, callback_secret_arn: Any = None, callback_secret_version: Any = None
) -> dict[str, Any]:
    """Environment variables for the function (values are strings or template refs).

    The template passes ``callback_secret_arn`` (and the version): the function
    reads the secret from Secrets Manager, and the environment holds no value.
    Without it (the local stack) ``CALLBACK_SECRET`` refers to ``CallbackSecret``,
    which ``local/environment.py`` resolves to the value itself.
    """
    env: dict[str, Any] = {
        "TEMP_FOLDER": Ref("TempPath"),
        "IMAGE_FOLDER": Ref("ImagePath"),
        "BLUR": "true" if config.blur else "false",
        "BLUR_RADIUS": str(config.blur_radius),
        "CALLBACK_URL": config.callback_url,
        "MAX_SOURCE_BYTES": str(config.max_upload_bytes),
        "OUTPUT_CACHE_CONTROL": config.cache_control,
    }
    if callback_secret_arn is None:
        env["CALLBACK_SECRET"] = Ref("CallbackSecret")
    else:
        env["CALLBACK_SECRET_ARN"] = callback_secret_arn
        env["CALLBACK_SECRET_VERSION"] = callback_secret_version
    for name, size in zip(DIMENSION_NAMES, default_dimensions(config.variants), strict=False):
        env[f"THUMB_DIMENSION_{name}"] = str(size)
    env.update(config.extra_environment)
    return dict(sorted(env.items()))
