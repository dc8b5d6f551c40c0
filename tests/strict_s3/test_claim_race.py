"""The replacement race against LocalStack, whose conditional writes are atomic.

moto 5.2.5 checks ``If-None-Match``/``If-Match`` and stores the object in two steps
without a lock (``S3Response.put_object``), so a pass there could be luck. This
runs the same 50 races (tests/lambda_function/race.py) where S3's guarantee is
emulated faithfully.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from lambda_function import handler
from lambda_function.config import get_config
from tests.lambda_function import race
from tests.lambda_function.conftest import SECRET, CallbackServer
from tests.lambda_function.conftest import callback_server as callback_server  # fixture

pytestmark = pytest.mark.strict_s3
TRIALS = 50


@pytest.fixture
def lambda_on_localstack(
    localstack_url: str, callback_server: CallbackServer, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Any]:
    """The handler's environment pointed at LocalStack; yields a client and a fresh bucket."""
    env = {
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_DEFAULT_REGION": "us-east-1",
        "S3_ENDPOINT_URL": localstack_url,
        "CALLBACK_URL": callback_server.url,
        "CALLBACK_SECRET": SECRET,
        "CALLBACK_TIMEOUT": "5",
    }
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL", "KEEP_SOURCE"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    get_config.cache_clear()
    handler._client.cache_clear()
    s3 = boto3.client("s3", endpoint_url=localstack_url)
    bucket = f"aiu-claim-race-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=bucket)
    yield s3, bucket
    get_config.cache_clear()
    handler._client.cache_clear()


def test_replacement_race_one_result_per_key_on_localstack(
    lambda_on_localstack: Any, callback_server: CallbackServer
) -> None:
    s3, bucket = lambda_on_localstack
    results = [
        race.one_trial(s3, bucket, callback_server, race.DELAYS_S[trial % len(race.DELAYS_S)])
        for trial in range(TRIALS)
    ]
    assert len(results) == TRIALS
    assert any("source_replaced" in outcomes for _, outcomes in results), results


def test_localstack_honours_both_conditions_on_put_object(lambda_on_localstack: Any) -> None:
    """What the race relies on: S3 refuses a second create and a stale If-Match."""
    from lambda_function.storage import Storage

    s3, bucket = lambda_on_localstack
    store = Storage(s3, bucket)
    key = "image/00000000-0000-4000-8000-000000000000/claim.json"
    etag = store.put_if(key, b"1", if_none_match=True)
    assert etag is not None
    assert store.put_if(key, b"2", if_none_match=True) is None
    assert store.put_if(key, b"3", if_match="0" * 32) is None
    assert store.put_if(key, b"4", if_match=etag) is not None
    assert store.put_if(key, b"5", if_match=etag) is None  # that ETag is gone now
