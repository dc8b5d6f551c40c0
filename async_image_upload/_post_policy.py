"""SigV4 POST policies signed in a few microseconds instead of botocore's few hundred.

botocore's ``generate_presigned_post`` resolves the endpoint through its rule
engine, builds and signs a request object and fires its event hooks on every
call; on a small server that was a third of the presign endpoint's own cost.
Only the URL and the signing region come out of that machinery, and neither
changes between uploads to one bucket, so botocore computes them once (see
``async_image_upload.s3``) and this module does the per-upload part: the
policy document and its signature, exactly as botocore writes them.
``tests/app/test_post_policy.py`` checks the output byte for byte against
botocore's for the same instant, with and without a session token.

The algorithm is AWS's "Browser-Based Uploads Using POST (AWS Signature
Version 4)": base64 of the JSON policy, signed with the key derived from the
secret, date, region and service.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any

ALGORITHM = "AWS4-HMAC-SHA256"
_EXPIRATION_FORMAT = "%Y-%m-%dT%H:%M:%SZ"  # botocore.auth.ISO8601
_TIMESTAMP_FORMAT = "%Y%m%dT%H%M%SZ"  # botocore.auth.SIGV4_TIMESTAMP


@lru_cache(maxsize=8)
def _signing_key(secret_key: str, date: str, region: str, service: str) -> bytes:
    """The day's derived key; four HMACs that only change at midnight UTC."""
    key = f"AWS4{secret_key}".encode()
    for part in (date, region, service, "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return key


@dataclass(frozen=True)
class PostPolicySigner:
    """Signs POST forms for one bucket, URL and signing scope.

    ``credentials`` is botocore's credentials object; its frozen snapshot is
    taken per call, so refreshed (for example role) credentials are picked up.
    """

    credentials: Any
    bucket: str
    url: str
    region: str
    service: str = "s3"

    def sign(
        self,
        *,
        key: str,
        fields: dict[str, str],
        conditions: list[Any],
        expires_in: int,
        now: datetime | None = None,
    ) -> dict[str, str]:
        """The form fields for an upload of exactly ``key``, as botocore returns them."""
        if key.endswith("${filename}"):
            raise ValueError("Only exact keys are signed; a ${filename} key is not supported.")
        now = (now or datetime.now(UTC)).replace(tzinfo=None)
        frozen = self.credentials.get_frozen_credentials()
        timestamp = now.strftime(_TIMESTAMP_FORMAT)
        date = timestamp[:8]
        scope = f"{frozen.access_key}/{date}/{self.region}/{self.service}/aws4_request"
        fields = {**fields, "key": key}
        conditions = [
            *conditions,
            {"bucket": self.bucket},
            {"key": key},
            {"x-amz-algorithm": ALGORITHM},
            {"x-amz-credential": scope},
            {"x-amz-date": timestamp},
        ]
        fields.update({"x-amz-algorithm": ALGORITHM, "x-amz-credential": scope})
        fields["x-amz-date"] = timestamp
        if frozen.token is not None:
            fields["x-amz-security-token"] = frozen.token
            conditions.append({"x-amz-security-token": frozen.token})
        policy = {
            "expiration": (now + timedelta(seconds=expires_in)).strftime(_EXPIRATION_FORMAT),
            "conditions": conditions,
        }
        encoded = base64.b64encode(json.dumps(policy).encode("utf-8")).decode("utf-8")
        fields["policy"] = encoded
        signing_key = _signing_key(frozen.secret_key, date, self.region, self.service)
        fields["x-amz-signature"] = hmac.new(
            signing_key, encoded.encode("utf-8"), hashlib.sha256
        ).hexdigest()
        return fields
