"""AWS-shaped events for driving the bundled Lambda handler in tests."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote_plus


def s3_event(
    bucket: str, key: str, size: int, etag: str, *, region: str = "us-east-1"
) -> dict[str, Any]:
    """One ``ObjectCreated:Post`` record in S3's own shape, the key URL-encoded as S3 does."""
    return {
        "Records": [
            {
                "eventVersion": "2.1",
                "eventSource": "aws:s3",
                "awsRegion": region,
                "eventName": "ObjectCreated:Post",
                "s3": {
                    "s3SchemaVersion": "1.0",
                    "bucket": {"name": bucket, "arn": f"arn:aws:s3:::{bucket}"},
                    "object": {"key": quote_plus(key), "size": size, "eTag": etag},
                },
            }
        ]
    }
