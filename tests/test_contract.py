"""The Django side and the Lambda each carry their half of docs/contract.md.

They never import each other (the Lambda must not depend on Django), so these
tests sign on one side and verify on the other, with the same fixed vector.
"""

from __future__ import annotations

import io
import time

import pytest

from async_image_upload import reconcile
from async_image_upload import signing as django_signing
from async_image_upload.conf import derive_callback_secret
from lambda_function import config as lambda_config
from lambda_function import outputs
from lambda_function import signing as lambda_signing

BODY = b'{"version":1,"upload_id":"4f1c0d2e-0000-4000-8000-000000000000","status":"ready"}'
VECTOR = (
    "s3cret",
    1764070000,
    b'{"a":1}',
    "v1=00608ad159c78f8c60fc6e02d0d92b252472107b6741d6a5f3b661d915d81123",
)


def test_both_sides_produce_the_fixed_vector() -> None:
    secret, timestamp, body, expected = VECTOR
    assert lambda_signing.sign(secret, timestamp, body) == expected
    django_headers = django_signing.sign(secret, body, timestamp=timestamp)
    assert django_headers[django_signing.SIGNATURE_HEADER] == expected


def test_header_names_agree() -> None:
    assert lambda_signing.TIMESTAMP_HEADER == django_signing.TIMESTAMP_HEADER
    assert lambda_signing.SIGNATURE_HEADER == django_signing.SIGNATURE_HEADER


def test_lambda_signature_verifies_in_django() -> None:
    secret = derive_callback_secret("a-django-secret-key")
    headers = lambda_signing.signed_headers(secret, BODY)
    verified = django_signing.verify(
        body=BODY,
        timestamp=headers[lambda_signing.TIMESTAMP_HEADER],
        signature=headers[lambda_signing.SIGNATURE_HEADER],
        secrets=["rotated-in", secret],
        max_age=300,
    )
    assert verified.secret_index == 1


def test_django_signature_verifies_in_lambda_helper() -> None:
    headers = django_signing.sign("k", BODY)
    assert lambda_signing.verify(
        ["k"],
        BODY,
        headers[django_signing.TIMESTAMP_HEADER],
        headers[django_signing.SIGNATURE_HEADER],
    )


def test_tampering_fails_on_the_django_side() -> None:
    headers = lambda_signing.signed_headers("k", BODY, now=time.time())
    with pytest.raises(django_signing.SignatureError, match="mismatch"):
        django_signing.verify(
            body=BODY.replace(b"ready", b"faile"),
            timestamp=headers[lambda_signing.TIMESTAMP_HEADER],
            signature=headers[lambda_signing.SIGNATURE_HEADER],
            secrets=["k"],
            max_age=300,
        )


def test_reconcile_knows_every_file_name_the_lambda_writes() -> None:
    """reconcile deletes orphaned folders only if every file in them is the Lambda's."""
    assert set(reconcile.LAMBDA_FILE_EXTENSIONS) == outputs.FILE_EXTENSIONS
    assert reconcile.MANIFEST_NAME == outputs.MANIFEST_NAME
    assert reconcile.CLAIM_NAME == outputs.CLAIM_NAME
    for extension in outputs.FILE_EXTENSIONS:
        for variant in ("400x300", "original"):
            for blurred in (False, True):
                assert reconcile.is_lambda_output(outputs.file_name(variant, blurred, extension))
    assert reconcile.is_lambda_output(outputs.MANIFEST_NAME)
    assert reconcile.is_lambda_output(outputs.CLAIM_NAME)
    assert not reconcile.is_lambda_output("original.tiff")
    assert not reconcile.is_lambda_output("notes.txt")


def test_memory_estimate_is_the_same_on_both_sides() -> None:
    """The system check and the deploy warning predict exactly what the Lambda's budget refuses."""
    from async_image_upload import _memory_table as django_side
    from lambda_function import memory_budget as lambda_side

    for name in (
        "DECODE_BYTES_PER_PIXEL", "WORKING_BYTES_PER_PIXEL", "LIVE_OUTPUT_IMAGES",
        "RUNTIME_BASELINE_MB", "SAFETY_FACTOR", "FIRST_USE_OVERHEAD_MB", "SUGGESTION_STEP_MB",
        "MAX_FUNCTION_MB",
    ):  # fmt: skip
        assert getattr(django_side, name) == getattr(lambda_side, name), name
    kinds = {kind for kinds in django_side.KINDS_BY_CONTENT_TYPE.values() for kind in kinds}
    assert kinds == set(lambda_side.DECODE_BYTES_PER_PIXEL)
    for kind in kinds:
        for arguments in (
            (50_000_000, 50_000_000, 160_000, True, 40 << 20),
            (12_000_000, 3_000_000, 3_000_000, False, 5 << 20),
            (1_000_000, 1_000_000, 0, False, 0),
        ):
            estimate = lambda_side.estimate_bytes(kind, *arguments)
            assert django_side.estimate_bytes(kind, *arguments) == estimate
            assert django_side.needed_mb(estimate) == lambda_side.needed_mb(estimate)
    assert lambda_config.load_config({}).max_pixels == django_side.LAMBDA_MAX_PIXELS


CACHE_CONTROL_CASES = {
    "presigned-default": ({}, "private, max-age=7200, immutable"),
    "presigned-short-window": (
        {"URL_SIGNING_WINDOW": 600, "URL_EXPIRY": 300},
        "private, max-age=900, immutable",
    ),
    "cdn": (
        {"URL_MODE": "custom_domain", "CDN_DOMAIN": "d1.cloudfront.net"},
        "public, max-age=31536000, immutable",
    ),
    "cdn-signed": (
        {
            "URL_MODE": "custom_domain",
            "CDN_DOMAIN": "d1.cloudfront.net",
            "CLOUDFRONT_KEY_ID": "K1",
            "CLOUDFRONT_PRIVATE_KEY": "(not read here)",
        },
        "public, max-age=7200, s-maxage=31536000, immutable",
    ),
    "storage": ({"URL_MODE": "storage"}, "public, max-age=31536000, immutable"),
    "explicit": ({"CACHE_CONTROL": "no-cache"}, "no-cache"),
}


@pytest.mark.parametrize("case", list(CACHE_CONTROL_CASES))
def test_djangos_cache_control_reaches_the_lambda_and_the_objects_in_s3(
    case, settings, upload_bucket
) -> None:
    """Settings → the env the deploy and local stack give the Lambda → the objects it writes.

    The handler runs for real on moto's S3 server (no callback URL: manifest only).
    """
    from PIL import Image

    from async_image_upload.cache_control import cache_control_from_settings
    from async_image_upload.local.environment import lambda_environment_values
    from async_image_upload.local.worker import LambdaContext
    from async_image_upload.testing.events import s3_record
    from lambda_function import handler

    overrides, expected = CACHE_CONTROL_CASES[case]
    settings.ASYNC_IMAGE_UPLOAD = {**settings.ASYNC_IMAGE_UPLOAD, **overrides}
    assert cache_control_from_settings() == expected
    env = lambda_environment_values(
        callback_url="https://example.com/uploads/callback/",
        s3_endpoint_url=upload_bucket.endpoint_url,
    )
    assert env["OUTPUT_CACHE_CONTROL"] == expected
    env.pop("CALLBACK_URL")
    config = lambda_config.load_config(env)
    assert config.cache_control == expected

    buffer = io.BytesIO()
    Image.new("RGB", (640, 480), (200, 40, 40)).save(buffer, "JPEG")
    upload_id = "4f1c0d2e-0000-4000-8000-000000000000"
    upload_bucket.client.put_object(
        Bucket=upload_bucket.name, Key=f"temp/{upload_id}", Body=buffer.getvalue(),
        ContentType="image/jpeg",
    )  # fmt: skip
    event = {"Records": [s3_record(upload_bucket.name, f"temp/{upload_id}")]}
    assert handler.handle(event, LambdaContext(timeout_s=30), config)["outcomes"] == ["ready"]
    written = upload_bucket.client.list_objects_v2(
        Bucket=upload_bucket.name, Prefix=f"image/{upload_id}/"
    )["Contents"]
    images = [o["Key"] for o in written if o["Key"].endswith(".jpg")]
    assert len(images) == 8
    for key in images:
        head = upload_bucket.client.head_object(Bucket=upload_bucket.name, Key=key)
        assert head["CacheControl"] == expected, key


def test_an_old_deployment_without_the_variable_keeps_the_old_cache_control() -> None:
    from async_image_upload.cache_control import PUBLIC_IMMUTABLE

    assert lambda_config.load_config({}).cache_control == PUBLIC_IMMUTABLE
    assert PUBLIC_IMMUTABLE == "public, max-age=31536000, immutable"  # what outputs always had
    with pytest.raises(Exception, match="OUTPUT_CACHE_CONTROL"):
        lambda_config.load_config({"OUTPUT_CACHE_CONTROL": "public\r\nSet-Cookie: x=1"})
