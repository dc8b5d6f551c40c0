"""The callback secret: read from Secrets Manager (moto's server over HTTP) once per cold start."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from lambda_function.config import load_config
from lambda_function.errors import ConfigError
from lambda_function.secret import fetch_secret, resolve_callback_secret

CALLBACK_URL = "https://app.example.com/uploads/callback/"


@pytest.fixture
def secrets(lambda_env: dict[str, str], s3_server: str) -> Iterator[Any]:
    """A Secrets Manager client on moto's server; the fetch cache is empty before and after."""
    import requests

    requests.post(f"{s3_server}/moto-api/reset", timeout=10).raise_for_status()
    fetch_secret.cache_clear()
    yield boto3.client("secretsmanager", endpoint_url=s3_server, region_name="eu-west-1")
    fetch_secret.cache_clear()


def deployed_env(s3_server: str, arn: str, **extra: str) -> dict[str, str]:
    """What a deployed stack sets: the ARN (and version), never the value."""
    return {
        "CALLBACK_URL": CALLBACK_URL,
        "CALLBACK_SECRET_ARN": arn,
        "AWS_ENDPOINT_URL_SECRETS_MANAGER": s3_server,
        **extra,
    }


def test_the_value_set_in_the_environment_wins_without_any_aws_call() -> None:
    env = {"CALLBACK_SECRET": " local-secret ", "CALLBACK_SECRET_ARN": "not-even-an-arn"}
    assert resolve_callback_secret(env) == "local-secret"
    assert resolve_callback_secret({}) == ""


def test_a_deployed_function_reads_the_secret_by_arn_and_caches_it(secrets, s3_server):
    arn = secrets.create_secret(Name="photos/callback", SecretString="v1-" + "a" * 61)["ARN"]
    config = load_config(deployed_env(s3_server, arn))
    assert config.callback_secret == "v1-" + "a" * 61

    # A rotation does not reach a warm instance (cached until the next cold start) ...
    secrets.put_secret_value(SecretId=arn, SecretString="v2-" + "b" * 61)
    assert load_config(deployed_env(s3_server, arn)).callback_secret == "v1-" + "a" * 61
    assert fetch_secret.cache_info().misses == 1
    # ... a cold start reads the current value.
    fetch_secret.cache_clear()
    assert load_config(deployed_env(s3_server, arn)).callback_secret == "v2-" + "b" * 61


def test_the_version_the_deploy_names_is_the_one_read(secrets, s3_server):
    """The deploy passes CALLBACK_SECRET_VERSION, so a redeploy pins what Django accepts."""
    arn = secrets.create_secret(Name="photos/callback", SecretString="first-" + "a" * 58)["ARN"]
    first = secrets.describe_secret(SecretId=arn)["VersionIdsToStages"]
    (first_version,) = first
    secrets.put_secret_value(SecretId=arn, SecretString="second-" + "b" * 57)
    env = deployed_env(s3_server, arn, CALLBACK_SECRET_VERSION=first_version)
    assert resolve_callback_secret(env) == "first-" + "a" * 58


def test_a_secret_that_cannot_be_read_is_a_config_error_and_is_not_cached(secrets, s3_server):
    arn = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:missing-AbCdEf"
    with pytest.raises(ConfigError, match=r"cannot read CALLBACK_SECRET_ARN .*ResourceNotFound"):
        load_config(deployed_env(s3_server, arn))
    assert fetch_secret.cache_info().currsize == 0
    with pytest.raises(ConfigError, match="must be a Secrets Manager ARN"):
        resolve_callback_secret(deployed_env(s3_server, "photos/callback"))
