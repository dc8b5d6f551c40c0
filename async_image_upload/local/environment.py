"""The Lambda's environment for the local stack, from the same builder the deploy uses."""

from __future__ import annotations

from typing import Any

from async_image_upload.conf import upload_settings


def lambda_environment_values(*, callback_url: str, s3_endpoint_url: str) -> dict[str, str]:
    """Concrete values for every variable the deployed stack would set.

    The deploy command's :func:`~async_image_upload.infra.environment.lambda_environment`
    is the one source of truth; its CloudFormation references are resolved here
    to the values the local stack uses.
    """
    from async_image_upload.infra.config import config_from_settings
    from async_image_upload.infra.environment import lambda_environment

    config = config_from_settings(callback_url=callback_url)
    refs = {
        "TempPath": upload_settings.TEMP_PREFIX,
        "ImagePath": upload_settings.IMAGE_PREFIX,
        "CallbackSecret": upload_settings.callback_secrets[0],
    }
    values: dict[str, str] = {}
    for name, value in lambda_environment(config).items():
        values[name] = _resolve(value, refs)
    values["S3_ENDPOINT_URL"] = s3_endpoint_url
    # On AWS the runtime sets AWS_LAMBDA_FUNCTION_MEMORY_SIZE; locally the same budget applies.
    values["FUNCTION_MEMORY_MB"] = str(config.memory_mb)
    return values


def _resolve(value: Any, refs: dict[str, str]) -> str:
    data = getattr(value, "data", None)
    if isinstance(data, dict) and "Ref" in data:
        return refs[data["Ref"]]
    return str(value)
