"""System check: the deployed Lambda's memory holds every input the settings allow.

Separate from ``checks.py`` because it needs the Lambda's memory model
(:mod:`async_image_upload._memory_table`, the tested twin of
``lambda_function/memory_budget.py``); the Lambda refuses what does not fit with
``too_much_memory`` rather than being killed, but users should learn at
``manage.py check`` time, not from failed uploads.
"""

from __future__ import annotations

from typing import Any

from django.core.checks import Tags, Warning, register

from async_image_upload._memory_table import memory_warning

CHECK_ID = "async_image_upload.W004"


@register(Tags.compatibility)
def check_lambda_memory(app_configs: Any = None, **kwargs: Any) -> list[Warning]:
    """Warn when ``DEPLOY_MEMORY_MB`` (or the deploy default) is too small for the settings."""
    from async_image_upload.conf import upload_settings
    from async_image_upload.infra.config import DEFAULT_MEMORY_MB

    memory_mb = upload_settings.DEPLOY_MEMORY_MB or DEFAULT_MEMORY_MB
    if not isinstance(memory_mb, int):  # "recommended": measured on the user's own photos
        return []
    try:
        problem = memory_warning(
            memory_mb,
            list(upload_settings.ALLOWED_CONTENT_TYPES),
            list(upload_settings.VARIANTS),
            int(upload_settings.MAX_UPLOAD_BYTES),
        )
    except (TypeError, ValueError):  # malformed settings: checks.py reports those
        return []
    if problem is None:
        return []
    return [
        Warning(
            problem,
            hint=(
                "Raise ASYNC_IMAGE_UPLOAD['DEPLOY_MEMORY_MB'] (or deploy with --memory) to the "
                "size named, or remove the format from ALLOWED_CONTENT_TYPES."
            ),
            id=CHECK_ID,
        )
    ]
