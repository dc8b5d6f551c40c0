"""The callback secret in AWS Secrets Manager, written from Django's settings.

The value never enters the template, a stack parameter or the function's
environment: the deploy command stores it here with boto3, and the stack gets
only the secret's ARN and the version to read (the Lambda fetches it at cold
start, ``lambda_function/secret.py``). Naming the version makes a rotation a
change of the function's configuration, so every instance picks it up on the
redeploy instead of whenever it happens to be recycled.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from async_image_upload.infra.config import StackConfig
from async_image_upload.infra.template import TAG_KEY


@dataclass(frozen=True)
class StoredSecret:
    """Where the Lambda finds the secret: its ARN and the version holding the value."""

    arn: str
    version_id: str
    outcome: str  # "created", "updated" or "unchanged"


def secret_name(config: StackConfig) -> str:
    return f"async-image-upload/{config.stack_name}/callback-secret"


def _describe(secretsmanager: Any, name: str) -> dict[str, Any] | None:
    try:
        return secretsmanager.describe_secret(SecretId=name)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "ResourceNotFoundException":
            return None
        raise


def store_callback_secret(secretsmanager: Any, config: StackConfig, value: str) -> StoredSecret:
    """Create the secret, or add a new current version when the value changed.

    An unchanged value writes nothing, so a redeploy without a rotation changes
    neither the secret nor the stack.
    """
    name = secret_name(config)
    described = _describe(secretsmanager, name)
    if described is None:
        created = secretsmanager.create_secret(
            Name=name,
            SecretString=value,
            Description=(
                f"Signs the thumbnail callbacks of stack {config.stack_name} "
                "(written by manage.py deploy_thumbnail_stack from CALLBACK_SECRETS)"
            ),
            Tags=[{"Key": TAG_KEY, "Value": config.stack_name}],
        )
        return StoredSecret(created["ARN"], created["VersionId"], "created")
    arn = described["ARN"]
    if described.get("DeletedDate"):  # a torn-down stack's secret, deployed again
        secretsmanager.restore_secret(SecretId=arn)
    current = secretsmanager.get_secret_value(SecretId=arn)
    if current.get("SecretString") == value:
        return StoredSecret(arn, current["VersionId"], "unchanged")
    updated = secretsmanager.put_secret_value(SecretId=arn, SecretString=value)
    return StoredSecret(arn, updated["VersionId"], "updated")


def secret_problem(
    secretsmanager: Any, config: StackConfig, value: str, deployed_version: str
) -> str | None:
    """What ``--check`` reports about the secret, or ``None`` when the function signs right.

    The stored value must be the settings' signing secret, and the stack must
    name its current version (the function reads exactly that version).
    """
    name = secret_name(config)
    described = _describe(secretsmanager, name)
    if described is None or described.get("DeletedDate"):
        return f"the callback secret {name} is missing from Secrets Manager"
    current = secretsmanager.get_secret_value(SecretId=described["ARN"])
    if current.get("SecretString") != value:
        return (
            "the callback secret in Secrets Manager is not the first of CALLBACK_SECRETS "
            "(rotated in settings but not deployed)"
        )
    if deployed_version and deployed_version != current["VersionId"]:
        return (
            f"the function reads version {deployed_version} of the callback secret, not "
            f"the current {current['VersionId']} (a cancelled deploy, or a change made "
            "outside the command)"
        )
    return None


def delete_callback_secret(secretsmanager: Any, config: StackConfig) -> bool:
    """Schedule the secret's deletion (7-day recovery window); ``False`` when there is none."""
    described = _describe(secretsmanager, secret_name(config))
    if described is None:
        return False
    secretsmanager.delete_secret(SecretId=described["ARN"], RecoveryWindowInDays=7)
    return True
