"""Running the deploy command the way a user does, capturing everything it prints."""

from __future__ import annotations

import io

from django.core.management import call_command


def run(*args: str) -> str:
    """``manage.py deploy_thumbnail_stack ARGS``: stdout and stderr together."""
    out = io.StringIO()
    call_command("deploy_thumbnail_stack", *args, stdout=out, stderr=out)
    return out.getvalue()
