"""Existing-bucket lifecycle writes on an S3 emulator that stores every lifecycle setting.

moto always answers ``TransitionDefaultMinimumObjectSize`` with S3's default;
LocalStack stores what was written, as S3 does. A PUT without the setting
resets it, so adding (and later removing) our temp-prefix rules must write the
owner's setting back with the rules.
"""

from __future__ import annotations

import pytest

from async_image_upload.infra import existing_bucket
from async_image_upload.infra.bucket_merge import OUR_LIFECYCLE_RULE_IDS
from async_image_upload.infra.config import StackConfig
from async_image_upload.testing.pytest_plugin import S3Bucket

pytestmark = pytest.mark.strict_s3

FUNCTION = "arn:aws:lambda:us-east-1:000000000000:function:async-image-upload-thumbnails"
OWNERS_RULE = {
    "ID": "small-photos-to-glacier",
    "Status": "Enabled",
    "Filter": {"Prefix": "archive/"},
    "Transitions": [{"Days": 30, "StorageClass": "GLACIER"}],
}


@pytest.mark.parametrize("owners_setting", ["varies_by_storage_class", "all_storage_classes_128K"])
def test_deploy_and_teardown_keep_the_owners_minimum_transition_size(
    strict_bucket: S3Bucket, owners_setting: str
) -> None:
    s3, bucket = strict_bucket.client, strict_bucket.name
    s3.put_bucket_lifecycle_configuration(
        Bucket=bucket,
        LifecycleConfiguration={"Rules": [OWNERS_RULE]},
        TransitionDefaultMinimumObjectSize=owners_setting,
    )
    config = StackConfig(
        bucket_name=bucket,
        bucket_mode="existing",
        callback_url="https://api.example.com/api/uploads/callback/",
        stack_name="photos-thumbs",
        cors_origins=(),
    )
    bucket_plan = existing_bucket.plan(s3, config, FUNCTION)
    existing_bucket.apply(s3, bucket_plan)
    (trigger,) = s3.get_bucket_notification_configuration(Bucket=bucket)[
        "LambdaFunctionConfigurations"
    ]
    assert trigger["LambdaFunctionArn"] == FUNCTION

    after_deploy = s3.get_bucket_lifecycle_configuration(Bucket=bucket)
    assert {r["ID"] for r in after_deploy["Rules"]} == {OWNERS_RULE["ID"], *OUR_LIFECYCLE_RULE_IDS}
    assert after_deploy["TransitionDefaultMinimumObjectSize"] == owners_setting

    existing_bucket.remove(s3, bucket, FUNCTION)
    after_teardown = s3.get_bucket_lifecycle_configuration(Bucket=bucket)
    assert [r["ID"] for r in after_teardown["Rules"]] == [OWNERS_RULE["ID"]]
    assert after_teardown["TransitionDefaultMinimumObjectSize"] == owners_setting
