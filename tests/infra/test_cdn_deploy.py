"""``deploy_thumbnail_stack --cdn``: the dry run offline, the deploy on moto as far as moto goes.

What moto's server shows here: a ``--cdn`` stack is accepted and created through
a change set that lists every CloudFront resource; the Lambda gets the CDN's
``OUTPUT_CACHE_CONTROL``; on an existing bucket the read statement is merged
into (and on teardown taken out of) a real bucket policy next to the owner's
statements.

What no emulator here can show, and where it is asserted instead:

* moto's CloudFormation builds no ``AWS::CloudFront::*`` resource (it warns and
  skips them), so there is no distribution, origin access control, cache policy
  or key group, and no ``CdnDomainName``/``CdnDistributionArn`` output: the
  template is asserted and linted (cfn-lint, checkov) in test_cdn_template.py.
  The command then warns that it could not merge the read statement.
* moto also skips ``AWS::S3::BucketPolicy``: the new bucket's statement is
  asserted in the template.
* Nothing serves a request through CloudFront: OAC's signed origin requests,
  ``https-only``, the cache policy and a key group refusing unsigned requests
  are AWS's behaviour. A signed URL is checked against CloudFront's documented
  algorithm in tests/app/test_cloudfront_signer.py. LocalStack's community
  edition has no CloudFront at all.
"""

from __future__ import annotations

import json
import re

import botocore.session
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.core.management import CommandError

from async_image_upload.infra import existing_bucket
from async_image_upload.infra.cdn import READ_STATEMENT_SID
from tests.infra.deploy_command import run
from tests.infra.moto_support import (  # noqa: F401 (an autouse fixture)
    MOTO_UNSUPPORTED_RESOURCES,
    moto_requests_come_over_tls,
)

from .conftest import make_config

pytestmark = pytest.mark.filterwarnings(MOTO_UNSUPPORTED_RESOURCES)
DISTRIBUTION_ARN = "arn:aws:cloudfront::123456789012:distribution/E2QWRUHAPOMQZL"


@pytest.fixture
def no_aws_calls(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("an AWS client was created")

    monkeypatch.setattr(botocore.session.Session, "create_client", refuse)


@pytest.fixture(scope="module")
def key_files(tmp_path_factory):
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    folder = tmp_path_factory.mktemp("cdn-keys")
    public_path, private_path = folder / "cdn-public.pem", folder / "cdn-private.pem"
    public_path.write_bytes(
        private.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    private_path.write_bytes(
        private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return public_path, private_path


def test_the_dry_run_says_what_the_cdn_adds(no_aws_calls):
    output = run("--dry-run", "--cdn")
    for resource in ("AWS::CloudFront::Distribution", "AWS::CloudFront::OriginAccessControl",
                     "AWS::CloudFront::CachePolicy"):  # fmt: skip
        assert resource in output
    assert "HTTPS only (https-only)" in output
    assert f"{READ_STATEMENT_SID!r} lets this distribution alone (AWS:SourceArn)" in output
    assert "keyed on the path only" in output
    assert "signed: no" in output
    assert "outputs: CdnDomainName, CdnDistributionId, CdnDistributionArn" in output
    assert "Cache-Control: public, max-age=31536000, immutable" in output


def test_without_cdn_the_dry_run_shows_the_presigned_cache_control(no_aws_calls):
    output = run("--dry-run")
    assert "AWS::CloudFront" not in output
    assert "CDN: none" in output
    # tests/settings.py: presigned mode, default one-hour window and expiry.
    assert "Cache-Control: private, max-age=7200, immutable" in output


def test_a_public_key_makes_the_distribution_require_signed_requests(no_aws_calls, key_files):
    output = run("--dry-run", "--cdn-public-key", str(key_files[0]))
    assert "AWS::CloudFront::KeyGroup" in output and "AWS::CloudFront::PublicKey" in output
    assert "signed: every request needs a CloudFront signed URL or signed cookies" in output
    assert "CdnPublicKeyId" in output
    assert "s-maxage=31536000" in output  # browsers: the URL's life; CloudFront: a year


def test_the_existing_bucket_dry_run_prints_the_statement_it_will_merge(no_aws_calls):
    output = run("--dry-run", "--existing-bucket", "legacy-photos", "--cdn")
    assert '"Sid": "CloudFrontReadsImages"' in output
    assert '"Resource": "arn:aws:s3:::legacy-photos/image/*"' in output
    assert '"AWS:SourceArn": "<CdnDistributionArn>"' in output


@pytest.mark.parametrize(
    ("which", "message"),
    [("private", "holds a PRIVATE key"), ("missing", "no such file"), ("garbage", "not a PEM")],
)
def test_an_unusable_public_key_is_a_readable_error(no_aws_calls, key_files, tmp_path, which,
                                                    message):  # fmt: skip
    path = {"private": key_files[1], "missing": tmp_path / "nope.pem"}.get(which)
    if path is None:
        path = tmp_path / "garbage.pem"
        path.write_text("-----BEGIN PUBLIC KEY-----\nnot base64\n-----END PUBLIC KEY-----\n")
    with pytest.raises(CommandError, match=message):
        run("--dry-run", "--cdn-public-key", str(path))


def test_deploy_with_cdn_on_moto(aws, clients, source_only_zip, key_files):
    public_key = str(key_files[0])
    output = run("--endpoint-url", aws, "--yes", "--zip", str(source_only_zip.path),
                 "--new-bucket", "fresh-uploads", "--cdn-public-key", public_key)  # fmt: skip
    assert "Stack async-image-upload: created." in output
    for logical_id in ("CdnDistribution", "CdnOriginAccessControl", "CdnCachePolicy",
                       "CdnPublicKey", "CdnKeyGroup"):  # fmt: skip
        assert re.search(rf"Add +AWS::CloudFront::\w+ +{logical_id}\w*\n", output), logical_id
    function = clients("lambda").get_function(FunctionName="async-image-upload-thumbnails")
    env = function["Configuration"]["Environment"]["Variables"]
    assert env["OUTPUT_CACHE_CONTROL"] == ("public, max-age=7200, s-maxage=31536000, immutable")
    # moto builds no distribution, so it reports no CdnDomainName to print.
    assert clients("cloudfront").list_distributions()["DistributionList"]["Quantity"] == 0
    assert "CDN_DOMAIN" not in output


def test_an_existing_bucket_policy_gets_the_read_statement_and_keeps_the_owners(clients):
    s3 = clients("s3")
    s3.create_bucket(Bucket="legacy-photos")
    owners = {
        "Sid": "Audit",
        "Effect": "Allow",
        "Principal": {"AWS": "arn:aws:iam::123456789012:root"},
        "Action": "s3:GetObject",
        "Resource": "arn:aws:s3:::legacy-photos/audit/*",
    }
    s3.put_bucket_policy(
        Bucket="legacy-photos", Policy=json.dumps({"Version": "2012-10-17", "Statement": [owners]})
    )
    config = make_config(bucket_name="legacy-photos", bucket_mode="existing", cdn=True)
    function = "arn:aws:lambda:us-east-1:123456789012:function:photos-thumbs-thumbnails"
    bucket_plan = existing_bucket.plan(s3, config, function, DISTRIBUTION_ARN)
    assert bucket_plan.policy_changes
    assert any("CloudFrontReadsImages" in line for line in bucket_plan.describe())
    existing_bucket.apply(s3, bucket_plan)

    policy = json.loads(s3.get_bucket_policy(Bucket="legacy-photos")["Policy"])
    audit, ours = policy["Statement"]
    assert audit == owners
    assert ours["Sid"] == READ_STATEMENT_SID
    assert ours["Principal"] == {"Service": "cloudfront.amazonaws.com"}
    assert ours["Resource"] == "arn:aws:s3:::legacy-photos/image/*"
    assert ours["Condition"] == {"StringEquals": {"AWS:SourceArn": DISTRIBUTION_ARN}}
    again = existing_bucket.plan(s3, config, function, DISTRIBUTION_ARN)
    assert not again.policy_changes  # a redeploy writes nothing

    existing_bucket.remove(s3, "legacy-photos", function)
    policy = json.loads(s3.get_bucket_policy(Bucket="legacy-photos")["Policy"])
    assert policy["Statement"] == [owners]


def test_existing_bucket_deploy_on_moto_says_the_statement_was_not_merged(
    aws, clients, source_only_zip, legacy_bucket
):
    """moto reports no CdnDistributionArn, so the command warns instead of guessing one."""
    output = run("--endpoint-url", aws, "--yes", "--zip", str(source_only_zip.path),
                 "--existing-bucket", "legacy-photos", "--cdn")  # fmt: skip
    assert "Stack async-image-upload: created." in output
    assert "reported no CdnDistributionArn" in output
    with pytest.raises(clients("s3").exceptions.ClientError, match="NoSuchBucketPolicy"):
        clients("s3").get_bucket_policy(Bucket="legacy-photos")


def test_the_settings_to_paste_point_django_at_the_distribution():
    """What a real deploy prints from the stack's outputs (moto has none to give)."""
    from async_image_upload.infra.summary import settings_snippet

    outputs = {"CdnDomainName": "d111111abcdef8.cloudfront.net", "CdnPublicKeyId": "K2JCJMDEHXQW5F"}
    snippet = settings_snippet(make_config(cdn=True), outputs)
    assert "'URL_MODE': 'custom_domain'," in snippet
    assert "'CDN_DOMAIN': 'd111111abcdef8.cloudfront.net'," in snippet
    assert "'CLOUDFRONT_KEY_ID': 'K2JCJMDEHXQW5F'," in snippet
    assert "CLOUDFRONT_PRIVATE_KEY" in snippet and "never commit it" in snippet
    plain = settings_snippet(make_config(), {})
    assert "URL_MODE" not in plain and "CLOUDFRONT" not in plain
