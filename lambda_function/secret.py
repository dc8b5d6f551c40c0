"""The callback secret: from Secrets Manager when deployed, from the environment locally.

A deployed stack never puts the secret's value in the function's environment
(anyone allowed ``lambda:GetFunctionConfiguration`` could read it there and
forge callbacks). It passes ``CALLBACK_SECRET_ARN`` and, so that a redeploy
after a rotation reaches every instance, ``CALLBACK_SECRET_VERSION``; the
value is fetched once per cold start and cached. The local stack and the tests
set ``CALLBACK_SECRET`` itself, which wins.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping

from .errors import ConfigError


def resolve_callback_secret(env: Mapping[str, str]) -> str:
    """``CALLBACK_SECRET`` if set, else the ``CALLBACK_SECRET_ARN`` secret's value, else ``""``."""
    value = env.get("CALLBACK_SECRET", "").strip()
    if value:
        return value
    arn = env.get("CALLBACK_SECRET_ARN", "").strip()
    if not arn:
        return ""
    endpoint = (
        env.get("AWS_ENDPOINT_URL_SECRETS_MANAGER", "").strip()
        or env.get("AWS_ENDPOINT_URL", "").strip()
        or None
    )
    return fetch_secret(arn, env.get("CALLBACK_SECRET_VERSION", "").strip(), endpoint)


@functools.cache
def fetch_secret(arn: str, version_id: str = "", endpoint_url: str | None = None) -> str:
    """The secret's string value (one Secrets Manager call per cold start, then cached).

    A failure is a :class:`ConfigError` naming the ARN; it is not cached, so the
    next invocation tries again.
    """
    # botocore itself, imported here, as :mod:`.storage` does: boto3 would add s3transfer.
    import botocore.session
    from botocore.exceptions import BotoCoreError, ClientError

    parts = arn.split(":")
    if len(parts) < 7 or parts[2] != "secretsmanager":
        raise ConfigError(f"CALLBACK_SECRET_ARN must be a Secrets Manager ARN, got {arn!r}")
    client = botocore.session.get_session().create_client(
        "secretsmanager", region_name=parts[3], endpoint_url=endpoint_url
    )
    request = {"SecretId": arn, **({"VersionId": version_id} if version_id else {})}
    try:
        value = client.get_secret_value(**request).get("SecretString") or ""
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "")
        raise ConfigError(f"cannot read CALLBACK_SECRET_ARN {arn} ({code})") from None
    except BotoCoreError as exc:
        raise ConfigError(f"cannot read CALLBACK_SECRET_ARN {arn} ({exc})") from None
    if not value.strip():
        raise ConfigError(f"the secret CALLBACK_SECRET_ARN {arn} holds no string value")
    return value.strip()
