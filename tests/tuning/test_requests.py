"""The cost model's S3 request count is what the real handler does, counted on moto's server.

The model prices requests per upload (``S3Requests.per_upload``); here the bundled
handler processes a real photo against moto's S3 server (``s3_server``) and every
request its client sends is recorded by operation, so a change to the handler's
request sequence cannot leave the cost model behind.
"""

from __future__ import annotations

import collections
import io
import uuid
from typing import Any

from PIL import Image

from async_image_upload.testing.events import s3_event
from async_image_upload.tuning.model import CLIENT_POSTS, S3Requests
from lambda_function import handler
from lambda_function.config import load_config

#: S3 operations by price class (aws.amazon.com/s3/pricing): PUT, COPY, POST, LIST; the rest.
PUT_CLASS = {"PutObject", "CopyObject", "ListObjectsV2", "ListObjects"}
FREE = {"DeleteObject"}


class _Context:
    def get_remaining_time_in_millis(self) -> int:
        return 60_000


def test_handler_requests_match_the_model(s3_server: str, aws_client: Any) -> None:
    s3 = aws_client("s3")
    bucket = f"requests-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=bucket)
    key = f"temp/{uuid.uuid4()}"
    buffer = io.BytesIO()
    Image.radial_gradient("L").resize((1200, 900)).convert("RGB").save(buffer, "JPEG")
    etag = s3.put_object(Bucket=bucket, Key=key, Body=buffer.getvalue())["ETag"].strip('"')
    config = load_config({"S3_ENDPOINT_URL": s3_server})
    client = handler._client(config.s3_endpoint_url)
    operations: collections.Counter[str] = collections.Counter()

    def record(model: Any, **kwargs: Any) -> None:
        operations[model.name] += 1

    client.meta.events.register("before-call.s3", record)
    try:
        event = s3_event(bucket, key, len(buffer.getvalue()), etag)
        assert handler.handle(event, _Context(), config)["outcomes"] == ["ready"]
    finally:
        client.meta.events.unregister("before-call.s3", record)

    outputs = s3.list_objects_v2(Bucket=bucket, Prefix="image/")["KeyCount"] - 2  # claim, manifest
    assert outputs == 8
    counted = S3Requests(
        put_class=CLIENT_POSTS + sum(operations[name] for name in PUT_CLASS),
        get_class=sum(n for name, n in operations.items() if name not in PUT_CLASS | FREE),
        free=sum(operations[name] for name in FREE),
    )
    assert counted == S3Requests.per_upload(outputs), dict(operations)
