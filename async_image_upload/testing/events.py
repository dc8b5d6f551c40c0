"""AWS-shaped events for driving the bundled Lambda handler in tests."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote_plus

#: An ETag for records whose object's real one does not matter to the test.
ANY_ETAG = "0123456789abcdef0123456789abcdef"


def s3_record(
    bucket: str,
    key: str,
    size: int = 1,
    etag: str = ANY_ETAG,
    *,
    region: str = "us-east-1",
    event_name: str = "ObjectCreated:Post",
) -> dict[str, Any]:
    """One S3 notification record in S3's own shape (event version 2.1).

    The key is URL-encoded as S3 encodes it: a space becomes ``+``, ``/`` stays.
    """
    return {
        "eventVersion": "2.1",
        "eventSource": "aws:s3",
        "awsRegion": region,
        "eventTime": "2025-11-25T12:00:00.000Z",
        "eventName": event_name,
        "userIdentity": {"principalId": "AWS:EXAMPLE"},
        "requestParameters": {"sourceIPAddress": "127.0.0.1"},
        "responseElements": {"x-amz-request-id": "EXAMPLE", "x-amz-id-2": "EXAMPLE"},
        "s3": {
            "s3SchemaVersion": "1.0",
            "configurationId": "thumbnails",
            "bucket": {
                "name": bucket,
                "ownerIdentity": {"principalId": "EXAMPLE"},
                "arn": f"arn:aws:s3:::{bucket}",
            },
            "object": {
                "key": quote_plus(key, safe="/"),
                "size": size,
                "eTag": etag,
                "sequencer": "0A1B2C3D4E5F678901",
            },
        },
    }


def s3_event(
    bucket: str,
    key: str,
    size: int,
    etag: str,
    *,
    region: str = "us-east-1",
    event_name: str = "ObjectCreated:Post",
) -> dict[str, Any]:
    """The event S3 sends the Lambda for one new object: one :func:`s3_record`."""
    return {"Records": [s3_record(bucket, key, size, etag, region=region, event_name=event_name)]}
