"""``--cdn`` in the emitted template: distribution, OAC, bucket policy, cache policy, key group.

Pure like test_template.py (config in, template dict out), linted by cfn-lint and
checkov in both bucket modes, signed and unsigned. What a real CloudFront does
with it cannot run here: moto's CloudFormation skips every AWS::CloudFront type
and LocalStack's community edition has no CloudFront (test_cdn_deploy.py says
what the emulators do show).
"""

from __future__ import annotations

import json

import pytest
from cfnlint.api import ManualArgs, lint
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from async_image_upload.infra.bucket_merge import (
    merge_policy_statement,
    normalise_policy,
    without_policy_statement,
)
from async_image_upload.infra.cdn import (
    CACHE_POLICY,
    DISTRIBUTION,
    KEY_GROUP,
    ORIGIN_ACCESS_CONTROL,
    PUBLIC_KEY,
    READ_STATEMENT_SID,
    api_read_statement,
    public_key_id,
)
from async_image_upload.infra.config import ConfigError
from async_image_upload.infra.template import BUCKET_POLICY, build_template, template_body

from .conftest import make_config
from .test_template import as_dict
from .test_template import test_checkov_has_no_failed_checks_and_every_skip_has_a_reason as checkov

CLOUDFRONT_TYPES = {
    "AWS::CloudFront::Distribution",
    "AWS::CloudFront::OriginAccessControl",
    "AWS::CloudFront::CachePolicy",
}
SOURCE_ARN = {
    "Fn::Sub": "arn:${AWS::Partition}:cloudfront::${AWS::AccountId}:distribution/${CdnDistribution}"
}


def public_key_pem() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048).public_key()
    return key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()


PUBLIC_PEM = public_key_pem()


@pytest.fixture(
    params=[("new", False), ("new", True), ("existing", False), ("existing", True)],
    ids=["new", "new-signed", "existing", "existing-signed"],
)
def cdn_config(request):
    mode, signed = request.param
    return make_config(bucket_mode=mode, cdn=True, cdn_public_key=PUBLIC_PEM if signed else "")


def test_cfn_lint_is_clean_with_the_cdn(cdn_config):
    """No errors, no warnings, no informational findings, in JSON and YAML."""
    for fmt in ("json", "yaml"):
        body = template_body(build_template(cdn_config), fmt)
        config = ManualArgs(regions=["us-east-1", "eu-west-1"], include_checks=["I"])
        assert [str(m) for m in lint(body, config=config)] == []


def test_checkov_is_clean_with_the_cdn(cdn_config, tmp_path):
    checkov(cdn_config, tmp_path)


def test_without_cdn_there_is_no_cloudfront():
    resources = as_dict(make_config())["Resources"]
    assert not [r for r in resources.values() if r["Type"].startswith("AWS::CloudFront::")]
    assert "CdnDomainName" not in as_dict(make_config())["Outputs"]


def test_the_distribution_reads_the_bucket_through_origin_access_control(cdn_config):
    resources = as_dict(cdn_config)["Resources"]
    assert {r["Type"] for r in resources.values()} >= CLOUDFRONT_TYPES
    oac = resources[ORIGIN_ACCESS_CONTROL]["Properties"]["OriginAccessControlConfig"]
    assert (oac["OriginAccessControlOriginType"], oac["SigningBehavior"]) == ("s3", "always")
    assert oac["SigningProtocol"] == "sigv4"
    config = resources[DISTRIBUTION]["Properties"]["DistributionConfig"]
    (origin,) = config["Origins"]
    assert origin["OriginAccessControlId"] == {"Fn::GetAtt": [ORIGIN_ACCESS_CONTROL, "Id"]}
    assert origin["S3OriginConfig"] == {"OriginAccessIdentity": ""}  # no legacy OAI
    assert origin["DomainName"] == {"Fn::Sub": "${BucketName}.s3.${AWS::Region}.${AWS::URLSuffix}"}
    assert "CustomOriginConfig" not in origin


def test_viewers_get_https_only_and_read_only_methods(cdn_config):
    config = as_dict(cdn_config)["Resources"][DISTRIBUTION]["Properties"]["DistributionConfig"]
    behaviour = config["DefaultCacheBehavior"]
    assert behaviour["ViewerProtocolPolicy"] == "https-only"
    assert behaviour["AllowedMethods"] == ["GET", "HEAD"]
    assert behaviour["CachePolicyId"] == {"Ref": CACHE_POLICY}
    assert "CacheBehaviors" not in config  # one behaviour; the bucket policy limits the keys
    assert config["Enabled"] is True


def test_the_cache_policy_keeps_immutable_images_a_year_keyed_on_the_path(cdn_config):
    policy = as_dict(cdn_config)["Resources"][CACHE_POLICY]["Properties"]["CachePolicyConfig"]
    assert (policy["DefaultTTL"], policy["MaxTTL"]) == (31536000, 31536000)
    key = policy["ParametersInCacheKeyAndForwardedToOrigin"]
    assert key["CookiesConfig"] == {"CookieBehavior": "none"}
    assert key["HeadersConfig"] == {"HeaderBehavior": "none"}
    # CloudFront checks a signed URL before its cache; the signature is not in the key,
    # so every viewer's signed URL for a key hits the same cache entry.
    assert key["QueryStringsConfig"] == {"QueryStringBehavior": "none"}


def test_the_new_bucket_policy_lets_only_this_distribution_read_the_image_prefix():
    statements = as_dict(make_config(cdn=True))["Resources"][BUCKET_POLICY]["Properties"][
        "PolicyDocument"
    ]["Statement"]
    tls, read = statements
    assert tls["Sid"] == "DenyRequestsWithoutTLS"
    assert read == {
        "Sid": READ_STATEMENT_SID,
        "Effect": "Allow",
        "Principal": {"Service": "cloudfront.amazonaws.com"},
        "Action": "s3:GetObject",
        "Resource": {"Fn::Sub": "arn:${AWS::Partition}:s3:::${BucketName}/${ImagePath}*"},
        "Condition": {"StringEquals": {"AWS:SourceArn": SOURCE_ARN}},
    }


def test_an_existing_bucket_policy_is_not_in_the_template_but_merged_by_sid():
    resources = as_dict(make_config(bucket_mode="existing", cdn=True))["Resources"]
    assert all(r["Type"] != "AWS::S3::BucketPolicy" for r in resources.values())
    theirs = {
        "Version": "2012-10-17",
        "Id": "owner-policy",
        "Statement": [
            {
                "Sid": "Audit",
                "Effect": "Allow",
                "Principal": {"AWS": "arn:aws:iam::1:root"},
                "Action": "s3:GetObject",
                "Resource": "arn:aws:s3:::legacy/*",
            }
        ],
    }
    arn = "arn:aws:cloudfront::123456789012:distribution/E2QWRUHAPOMQZL"
    ours = api_read_statement("legacy", "image/", arn)
    merged = merge_policy_statement(theirs, ours)
    assert merged["Id"] == "owner-policy"
    assert merged["Statement"] == [theirs["Statement"][0], ours]
    assert ours["Resource"] == "arn:aws:s3:::legacy/image/*"
    assert ours["Condition"] == {"StringEquals": {"AWS:SourceArn": arn}}
    # A redeploy with another distribution replaces our statement, never adds a second.
    again = merge_policy_statement(merged, api_read_statement("legacy", "image/", arn + "X"))
    assert len(again["Statement"]) == 2
    assert normalise_policy(merge_policy_statement(merged, ours)) == normalise_policy(merged)
    assert merge_policy_statement(None, ours) == {"Version": "2012-10-17", "Statement": [ours]}
    assert without_policy_statement(merged, READ_STATEMENT_SID) == theirs
    assert without_policy_statement({"Statement": [ours]}, READ_STATEMENT_SID) is None


def test_a_public_key_adds_a_key_group_the_behaviour_trusts():
    template = as_dict(make_config(cdn=True, cdn_public_key=PUBLIC_PEM))
    resources = template["Resources"]
    key_id = public_key_id(PUBLIC_PEM)
    assert key_id.startswith(PUBLIC_KEY) and key_id != public_key_id(public_key_pem())
    encoded = resources[key_id]["Properties"]["PublicKeyConfig"]["EncodedKey"]
    assert encoded.strip() == PUBLIC_PEM.strip()
    assert resources[KEY_GROUP]["Properties"]["KeyGroupConfig"]["Items"] == [{"Ref": key_id}]
    behaviour = resources[DISTRIBUTION]["Properties"]["DistributionConfig"]["DefaultCacheBehavior"]
    assert behaviour["TrustedKeyGroups"] == [{"Ref": KEY_GROUP}]
    assert template["Outputs"]["CdnPublicKeyId"]["Value"] == {"Ref": key_id}
    assert "PRIVATE" not in json.dumps(template)
    unsigned = as_dict(make_config(cdn=True))["Resources"]
    assert not [r for r in unsigned if r.startswith(PUBLIC_KEY)] and KEY_GROUP not in unsigned
    assert (
        "TrustedKeyGroups"
        not in (unsigned[DISTRIBUTION]["Properties"]["DistributionConfig"]["DefaultCacheBehavior"])
    )


def test_outputs_name_the_domain_and_arn(cdn_config):
    outputs = as_dict(cdn_config)["Outputs"]
    assert outputs["CdnDomainName"]["Value"] == {"Fn::GetAtt": [DISTRIBUTION, "DomainName"]}
    assert outputs["CdnDistributionArn"]["Value"] == SOURCE_ARN
    assert ("CdnPublicKeyId" in outputs) == bool(cdn_config.cdn_public_key)


def test_the_lambda_serves_cdn_outputs_with_the_config_cache_control(cdn_config):
    env = as_dict(cdn_config)["Resources"]["ThumbnailFunction"]["Properties"]["Environment"]
    assert env["Variables"]["OUTPUT_CACHE_CONTROL"] == cdn_config.cache_control


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"cdn_public_key": PUBLIC_PEM}, "needs --cdn"),
        ({"cdn": True, "cdn_public_key": "ssh-rsa AAAA"}, "PEM"),
        ({"cdn": True, "cdn_price_class": "PriceClass_Cheap"}, "price class"),
        ({"cache_control": "public\r\nX-Evil: 1"}, "CACHE_CONTROL"),
        ({"cdn": True, "stack_name": "s" * 58}, "at most 57 characters"),
    ],
)
def test_bad_cdn_options_are_refused(changes, message):
    with pytest.raises(ConfigError, match=message):
        make_config(**changes)
