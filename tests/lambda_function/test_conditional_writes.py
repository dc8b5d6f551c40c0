"""Conditional PUTs on an SDK that does not model them (the runtime's may be older).

The header route is forced on today's botocore and sent to moto's S3 over HTTP;
``strict_s3/test_deployed_artifact.py`` runs the zip on a real older boto3.
"""

from __future__ import annotations

from typing import Any

import pytest

from lambda_function import conditional_writes
from lambda_function.storage import Storage, make_client


@pytest.fixture
def old_sdk_storage(monkeypatch: pytest.MonkeyPatch, s3_server: str, aws_client: Any) -> Storage:
    """A Storage whose client takes the condition headers our way, not botocore's."""
    monkeypatch.setattr(
        conditional_writes, "missing_parameters", lambda client: set(conditional_writes.HEADERS)
    )
    aws_client("s3").create_bucket(Bucket="conditional-writes")
    return Storage(make_client(s3_server), "conditional-writes")


def test_create_only_put_wins_once_through_the_header_route(old_sdk_storage: Storage) -> None:
    first = old_sdk_storage.put_if("create-only.json", b"{}", if_none_match=True)
    assert first is not None
    assert old_sdk_storage.put_if("create-only.json", b"{}", if_none_match=True) is None


def test_replace_this_etag_put_through_the_header_route(old_sdk_storage: Storage) -> None:
    etag = old_sdk_storage.put_if("replace.json", b'{"n": 1}', if_none_match=True)
    assert etag is not None
    assert old_sdk_storage.put_if("replace.json", b'{"n": 2}', if_match="0" * 32) is None
    moved = old_sdk_storage.put_if("replace.json", b'{"n": 2}', if_match=etag)
    assert moved is not None and moved != etag
    assert old_sdk_storage.read_with_etag("replace.json") == (moved, b'{"n": 2}')


def test_nothing_is_installed_where_botocore_models_the_conditions(s3_server: str) -> None:
    client = make_client(s3_server)
    assert conditional_writes.missing_parameters(client) == set()
    assert not getattr(client, "_conditional_writes_installed", False)
