"""pytest fixtures for projects using async_image_upload (auto-loaded when installed).

``s3_server`` runs moto's S3 server over HTTP on 127.0.0.1 for the session;
``upload_bucket`` gives each test a fresh bucket and points the app's settings
at it. Both need the ``test`` extra (moto[server]).
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class S3Bucket:
    """A bucket on the test S3 server and a boto3 client for it."""

    name: str
    endpoint_url: str
    client: Any


@pytest.fixture(scope="session")
def s3_server() -> Iterator[str]:
    """moto's S3 server on a free loopback port; yields its endpoint URL."""
    from moto.server import ThreadedMotoServer

    # Fake credentials, set before any boto3 client exists, so nothing here
    # can ever reach real AWS with a developer's own keys.
    fake_env = {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    saved = {name: os.environ.get(name) for name in fake_env}
    os.environ.update(fake_env)
    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


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
        region_name="us-east-1",
        config=Config(signature_version="s3v4", s3={"addressing_style": "path"}),
    )
    client.create_bucket(Bucket=name)
    current = dict(getattr(settings, "ASYNC_IMAGE_UPLOAD", {}) or {})
    current.update(BUCKET=name, ENDPOINT_URL=endpoint_url, REGION="us-east-1")
    settings.ASYNC_IMAGE_UPLOAD = current
    return S3Bucket(name=name, endpoint_url=endpoint_url, client=client)


@pytest.fixture
def upload_bucket(s3_server: str, settings: Any) -> S3Bucket:
    """A fresh bucket on the test server, with the app's settings pointing at it."""
    return new_bucket(s3_server, settings)
