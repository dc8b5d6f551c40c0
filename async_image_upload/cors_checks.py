"""System check: browsers can upload to the bucket only if its CORS allows the site.

``deploy_thumbnail_stack`` writes the bucket's CORS rule from ``--cors-origin``,
``DEPLOY_CORS_ORIGINS`` or Django's ``CSRF_TRUSTED_ORIGINS`` (see
``infra.config.default_cors_origins``). With all three empty, a deployed bucket
refuses every browser's POST, and the admin widget and the JS client fail with
a CORS error the server never sees; this check says so at ``manage.py check``.
"""

from __future__ import annotations

from typing import Any

from django.core.checks import Tags, Warning, register

CHECK_ID = "async_image_upload.W005"


@register(Tags.compatibility)
def check_cors_origins(app_configs: Any = None, **kwargs: Any) -> list[Warning]:
    """Warn when a real-AWS bucket would get no CORS origins from the settings."""
    from async_image_upload.conf import upload_settings
    from async_image_upload.infra.config import default_cors_origins

    # An ENDPOINT_URL means an emulator (the local stack allows its own origins).
    if not upload_settings.BUCKET or upload_settings.ENDPOINT_URL:
        return []
    if default_cors_origins()[0]:
        return []
    return [
        Warning(
            f"No browser origin may upload to the bucket {upload_settings.BUCKET!r}: "
            "CSRF_TRUSTED_ORIGINS and ASYNC_IMAGE_UPLOAD['DEPLOY_CORS_ORIGINS'] are empty, "
            "so deploy_thumbnail_stack --new-bucket adds no CORS rule, and the admin "
            "widget and the JS client cannot POST to S3.",
            hint=(
                "Set CSRF_TRUSTED_ORIGINS = ['https://your.site'] (or DEPLOY_CORS_ORIGINS) "
                "before you deploy (or deploy again if the stack exists); if only mobile or "
                "server clients upload, add "
                f"{CHECK_ID!r} to SILENCED_SYSTEM_CHECKS."
            ),
            id=CHECK_ID,
        )
    ]
