"""Replay a parked event by running the bundled handler in this process.

For the local stack and for emergencies (the deployed function itself is
broken): ``replay_dead_letters --local``. The Lambda's configuration is built
from the variables a deploy would set, passed to the handler as an argument;
``os.environ`` is never changed, so nothing else in this process (Django, other
threads) sees the Lambda's variables.
"""

from __future__ import annotations

import functools
from typing import Any

from async_image_upload.dead_letters import DeadLetter, ReplayError


class LocalInvoker:
    """Runs the bundled handler synchronously: a handler that raises is a failed replay."""

    def __init__(self, environment: dict[str, str], timeout_s: float = 60) -> None:
        self.environment = environment
        self.timeout_s = timeout_s

    @classmethod
    def from_settings(cls) -> LocalInvoker:
        """The environment the deploy command would give the function, for these settings."""
        from async_image_upload.conf import upload_settings
        from async_image_upload.local.environment import lambda_environment_values

        if not upload_settings.CALLBACK_URL:
            raise ReplayError("--local needs ASYNC_IMAGE_UPLOAD['CALLBACK_URL']")
        return cls(
            lambda_environment_values(
                callback_url=upload_settings.CALLBACK_URL,
                s3_endpoint_url=upload_settings.ENDPOINT_URL or "",
            )
        )

    @functools.cached_property
    def config(self) -> Any:
        """The Lambda's ``Config``, parsed on first use; a bad value fails each replay."""
        from async_image_upload.local.lambda_loader import import_lambda_module

        return import_lambda_module("config").load_config(self.environment)

    def __call__(self, letter: DeadLetter) -> None:
        from async_image_upload.local.lambda_loader import import_lambda_module
        from async_image_upload.local.worker import LambdaContext

        try:
            import_lambda_module("handler").handle(
                letter.request_payload, LambdaContext(timeout_s=self.timeout_s), self.config
            )
        except Exception as exc:
            raise ReplayError(f"the handler raised {type(exc).__name__}: {exc}") from exc
