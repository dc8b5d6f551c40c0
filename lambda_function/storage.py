"""S3 I/O for the handler: the only module that talks to the bucket.

botocore is imported when the first client is made, not when this module is:
importing it costs ~180 ms of CPU and building the S3 client about as much again, and
Lambda bills INIT. Every invocation needs the client, so the cost is not saved
but moved into the first invocation, where the handler makes the client before
it decides whether a record can still start (:mod:`.handler`). The client comes
from botocore's own session: boto3's wrapper would add s3transfer (its
``upload_file`` helpers, unused here) for ~60 ms more.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from . import conditional_writes
from .config import DEFAULT_CACHE_CONTROL

if TYPE_CHECKING:
    from botocore.exceptions import ClientError

# Outputs live under a key that never changes content (a new upload gets a new id);
# how long and by whom they may be cached follows Django's URL mode (OUTPUT_CACHE_CONTROL).
CACHE_CONTROL = DEFAULT_CACHE_CONTROL
_MISSING = {"404", "NoSuchKey", "NotFound"}
# A lost conditional write: 412 (the condition failed), 409 ConditionalRequestConflict
# (S3 saw two racing conditional writes), 404 (If-Match on a key deleted meanwhile).
_LOST_CONDITION = {"PreconditionFailed", "412", "ConditionalRequestConflict", "409"} | _MISSING


class SourceChanged(Exception):
    """The source's bytes changed between HEAD and GET (new bytes POSTed to the key)."""


@dataclass(frozen=True)
class SourceObject:
    """What HEAD says about an uploaded source, before any byte is downloaded."""

    key: str
    etag: str
    size: int
    metadata: dict[str, str]


def make_client(endpoint_url: str | None) -> Any:
    """An S3 client with short timeouts and botocore's standard retries.

    ``endpoint_url`` points it at the local stack (moto's server) so the very
    same handler runs there. Conditional PUTs work on any botocore the runtime
    ships (:mod:`.conditional_writes`).
    """
    import botocore.session
    from botocore.config import Config as BotoConfig

    client = botocore.session.get_session().create_client(
        "s3",
        endpoint_url=endpoint_url,
        config=BotoConfig(
            connect_timeout=3,
            read_timeout=20,
            retries={"mode": "standard", "max_attempts": 4},
            signature_version="s3v4",
        ),
    )
    conditional_writes.install(client)
    return client


def _client_error() -> type[ClientError]:
    """botocore's ``ClientError``; botocore is loaded by then (a client exists)."""
    from botocore.exceptions import ClientError

    return ClientError


def _code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code"))


def _is_missing(error: ClientError) -> bool:
    return _code(error) in _MISSING


class Storage:
    """The bucket one event record is about."""

    def __init__(self, client: Any, bucket: str, cache_control: str = CACHE_CONTROL) -> None:
        self.client = client
        self.bucket = bucket
        self.cache_control = cache_control

    def head(self, key: str) -> SourceObject | None:
        """The source's size, ETag and metadata, or None if it no longer exists."""
        try:
            response = self.client.head_object(Bucket=self.bucket, Key=key)
        except _client_error() as error:
            if _is_missing(error):
                return None
            raise
        return SourceObject(
            key=key,
            etag=response["ETag"].strip('"'),
            size=response["ContentLength"],
            metadata={name.lower(): value for name, value in response["Metadata"].items()},
        )

    def get(self, source: SourceObject) -> bytes:
        """Download exactly the version HEAD described (``IfMatch``), so the size check holds.

        Raises :class:`SourceChanged` if the key holds other bytes by now.
        """
        try:
            response = self.client.get_object(
                Bucket=self.bucket, Key=source.key, IfMatch=f'"{source.etag}"'
            )
        except _client_error() as error:
            if _code(error) in ("PreconditionFailed", "412"):
                raise SourceChanged(source.key) from None
            raise
        return response["Body"].read()

    def put_if(
        self, key: str, body: bytes, *, if_none_match: bool = False, if_match: str | None = None
    ) -> str | None:
        """A conditional PUT (create-only, or replace-this-ETag); the new ETag, or None if lost."""
        condition = {"IfNoneMatch": "*"} if if_none_match else {"IfMatch": f'"{if_match}"'}
        try:
            response = self.client.put_object(
                Bucket=self.bucket,
                Key=key,
                Body=body,
                ContentType="application/json",
                CacheControl="no-store",
                **condition,
            )
        except _client_error() as error:
            if _code(error) in _LOST_CONDITION:
                return None
            raise
        return str(response["ETag"]).strip('"')

    def read_with_etag(self, key: str) -> tuple[str, bytes] | None:
        """An object's ETag and bytes, or None if it does not exist."""
        try:
            response = self.client.get_object(Bucket=self.bucket, Key=key)
        except _client_error() as error:
            if _is_missing(error):
                return None
            raise
        return str(response["ETag"]).strip('"'), response["Body"].read()

    def put(self, key: str, data: bytes, content_type: str) -> None:
        self.client.put_object(
            Bucket=self.bucket,
            Key=key,
            Body=data,
            ContentType=content_type,
            CacheControl=self.cache_control,
        )

    def read_manifest(self, key: str) -> dict[str, Any] | None:
        """The manifest a previous run wrote, or None (absent or unreadable)."""
        found = self.read_with_etag(key)
        if found is None:
            return None
        try:
            manifest = json.loads(found[1])
        except ValueError:
            return None
        return manifest if isinstance(manifest, dict) else None

    def write_manifest(self, key: str, manifest: dict[str, Any]) -> None:
        body = json.dumps(manifest, separators=(",", ":"), sort_keys=True).encode()
        self.client.put_object(
            Bucket=self.bucket,
            Key=key,
            Body=body,
            ContentType="application/json",
            CacheControl="no-cache",
        )

    def delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=key)
