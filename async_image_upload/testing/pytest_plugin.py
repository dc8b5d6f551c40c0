"""pytest fixtures for projects using async_image_upload (auto-loaded when installed).

``fake_aws_credentials`` (session) gives boto3 fake keys, the region
:data:`REGION` and no profile or config file, so nothing can reach real AWS
with a developer's own keys. ``s3_server`` (session) runs moto's server over
HTTP on 127.0.0.1 and yields its endpoint URL; it answers every service moto
emulates (SQS, Lambda, CloudFormation…), not only S3. ``aws_client`` makes
boto3 clients aimed at it. ``upload_bucket`` gives each test a fresh bucket
and points the app's settings at it. The server fixtures need the ``testing``
extra (moto[server]); docs/testing.md shows them in use.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

#: The region every fixture here uses; moto accepts any.
REGION = "us-east-1"

#: What boto3 sees under ``fake_aws_credentials``. The config files point at
#: nothing, so a developer's own profile or keys never fill in a missing value.
FAKE_AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": REGION,
    "AWS_CONFIG_FILE": "/dev/null",
    "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
}
#: Variables that would send boto3 to another account or endpoint than the test's.
UNSET_AWS_ENV = ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3")


@dataclass
class S3Bucket:
    """A bucket on the test S3 server and a boto3 client for it."""

    name: str
    endpoint_url: str
    client: Any


@pytest.fixture(scope="session")
def fake_aws_credentials() -> Iterator[dict[str, str]]:
    """Fake AWS keys and region in ``os.environ`` for the session; yields them.

    ``s3_server`` uses it, so every test that talks to the server has it. A
    project that wants it for every test (boto3 clients made without the
    server too) can make it autouse from its ``conftest.py``.
    """
    patch = pytest.MonkeyPatch()
    for name in UNSET_AWS_ENV:
        patch.delenv(name, raising=False)
    for name, value in FAKE_AWS_ENV.items():
        patch.setenv(name, value)
    try:
        yield dict(FAKE_AWS_ENV)
    finally:
        patch.undo()


@pytest.fixture(scope="session")
def s3_server(fake_aws_credentials: dict[str, str]) -> Iterator[str]:
    """moto's server on a free loopback port for the session; yields its endpoint URL."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


@pytest.fixture
def aws_client(s3_server: str) -> Callable[..., Any]:
    """A factory of boto3 clients on the test server: ``aws_client("sqs")``.

    Clients are in :data:`REGION` unless ``region_name`` says otherwise; other
    keyword arguments go to ``boto3.client``.
    """
    import boto3

    def make(service: str, **kwargs: Any) -> Any:
        kwargs.setdefault("region_name", REGION)
        return boto3.client(service, endpoint_url=s3_server, **kwargs)

    return make


def new_bucket(endpoint_url: str, settings: Any, *, prefix: str = "aiu-test") -> S3Bucket:
    """Create a fresh bucket on ``endpoint_url`` and point the app's settings at it.

    ``settings`` is pytest-django's fixture, so the change is undone after the test.
    Works with any S3 emulator (moto's server, LocalStack).
    """
    import boto3
    from botocore.config import Config

    name = f"{prefix}-{uuid.uuid4().hex[:12]}"
    client = boto3.client(
        "s3",
        endpoint_url=endpoint_url,
        region_name=REGION,
        config=Config(signature_version="s3v4", s3={"addressing_style": "path"}),
    )
    client.create_bucket(Bucket=name)
    current = dict(getattr(settings, "ASYNC_IMAGE_UPLOAD", {}) or {})
    current.update(BUCKET=name, ENDPOINT_URL=endpoint_url, REGION=REGION)
    settings.ASYNC_IMAGE_UPLOAD = current
    return S3Bucket(name=name, endpoint_url=endpoint_url, client=client)


@pytest.fixture
def upload_bucket(s3_server: str, settings: Any) -> S3Bucket:
    """A fresh bucket on the test server, with the app's settings pointing at it."""
    return new_bucket(s3_server, settings)
