"""``--cdn``: a CloudFront distribution in front of the image prefix, the bucket kept private.

What it adds to the template (:func:`cdn_resources`), and why:

* An Origin Access Control: CloudFront signs its requests to S3 with SigV4, and
  the bucket policy lets only *this* distribution (``AWS:SourceArn``) read
  ``<ImagePath>*`` (:func:`cdn_read_statement`). Block Public Access stays on: a
  service principal pinned to one distribution is not public.
* HTTPS only between viewers and CloudFront (``https-only``: a plain-http
  request is refused, never answered with a redirect a signed URL would leak through).
* A cache policy for immutable objects: a year by default, nothing but the path
  in the cache key (no cookies, headers or query strings), so every viewer's
  request for a key, signed or not, hits one cache entry. CloudFront checks a
  signed URL before it looks in its cache and does not need the signature in the key.
* With ``--cdn-public-key``: a PublicKey and a KeyGroup, and the cache behaviour
  trusts only that key group, so every request needs a CloudFront signed URL
  or signed cookies made with the matching private key. The template holds the
  public half only; the private key stays in Django's settings or a secret store.

In existing-bucket mode the stack does not own the bucket policy, so the read
statement is merged into it after the deploy
(:func:`async_image_upload.infra.bucket_merge.merge_policy_statement`), the
way the notification and lifecycle entries are.
"""

from __future__ import annotations

import hashlib
from typing import Any

from troposphere import GetAtt, Output, Ref, Sub, Tags
from troposphere import cloudfront as cf

from async_image_upload.infra.config import StackConfig

DISTRIBUTION = "CdnDistribution"
ORIGIN_ACCESS_CONTROL = "CdnOriginAccessControl"
CACHE_POLICY = "CdnCachePolicy"
#: Prefix of the PublicKey's logical id; the rest is the key's hash (:func:`public_key_id`).
PUBLIC_KEY = "CdnPublicKey"
KEY_GROUP = "CdnKeyGroup"
ORIGIN_ID = "upload-bucket-images"
#: The Sid of the bucket policy statement that lets the distribution read images.
READ_STATEMENT_SID = "CloudFrontReadsImages"
ONE_YEAR = 365 * 24 * 60 * 60
#: CloudFront's managed "SecurityHeadersPolicy" (HSTS, nosniff, frame options, referrer).
SECURITY_HEADERS_POLICY_ID = "67f7725c-6f97-4210-82d7-5512b31e9d03"


def distribution_arn() -> Sub:
    return Sub(
        "arn:${AWS::Partition}:cloudfront::${AWS::AccountId}:distribution/${" + DISTRIBUTION + "}"
    )


def cdn_read_statement(resource: Any, source_arn: Any) -> dict[str, Any]:
    """Allow CloudFront to GET ``resource`` on behalf of the one distribution ``source_arn``."""
    return {
        "Sid": READ_STATEMENT_SID,
        "Effect": "Allow",
        "Principal": {"Service": "cloudfront.amazonaws.com"},
        "Action": "s3:GetObject",
        "Resource": resource,
        "Condition": {"StringEquals": {"AWS:SourceArn": source_arn}},
    }


def template_read_statement() -> dict[str, Any]:
    """:func:`cdn_read_statement` for the new bucket's policy, as template references."""
    return cdn_read_statement(
        Sub("arn:${AWS::Partition}:s3:::${BucketName}/${ImagePath}*"), distribution_arn()
    )


def api_read_statement(
    bucket: str, image_prefix: str, source_arn: str, partition: str = "aws"
) -> dict[str, Any]:
    """:func:`cdn_read_statement` with concrete values, for an existing bucket's policy."""
    return cdn_read_statement(f"arn:{partition}:s3:::{bucket}/{image_prefix}*", source_arn)


def _key_hash(pem: str) -> str:
    return hashlib.sha256(pem.strip().encode()).hexdigest()


def public_key_name(pem: str) -> str:
    """A name (and CallerReference) derived from the key."""
    return "async-image-upload-" + _key_hash(pem)[:16]


def public_key_id(pem: str) -> str:
    """The PublicKey's logical id, named by the key's hash.

    CloudFront cannot change a public key's encoded key in place (only its
    comment), so a rotated key must be a new resource: CloudFormation creates
    it, points the key group at it, then deletes the old one.
    """
    return PUBLIC_KEY + _key_hash(pem)[:12]


def _skip(*checks: tuple[str, str]) -> dict[str, Any]:
    return {"checkov": {"skip": [{"id": check, "comment": reason} for check, reason in checks]}}


def _signing_resources(config: StackConfig) -> list[Any]:
    name = public_key_name(config.cdn_public_key)
    logical_id = public_key_id(config.cdn_public_key)
    return [
        cf.PublicKey(
            logical_id,
            PublicKeyConfig=cf.PublicKeyConfig(
                CallerReference=name,
                Name=Sub("${AWS::StackName}-" + name[-16:]),
                EncodedKey=config.cdn_public_key.strip() + "\n",
                Comment="Verifies CloudFront signed URLs/cookies that Django signs",
            ),
        ),
        cf.KeyGroup(
            KEY_GROUP,
            KeyGroupConfig=cf.KeyGroupConfig(
                Name=Sub("${AWS::StackName}-signers"),
                Items=[Ref(logical_id)],
                Comment="Keys whose signed URLs the image distribution accepts",
            ),
        ),
    ]


def cdn_resources(config: StackConfig) -> list[Any]:
    """The distribution, its origin access control and cache policy (and key group)."""
    resources: list[Any] = [
        cf.OriginAccessControl(
            ORIGIN_ACCESS_CONTROL,
            OriginAccessControlConfig=cf.OriginAccessControlConfig(
                Name=Sub("${AWS::StackName}-images"),
                Description="CloudFront signs every read of the upload bucket (SigV4)",
                OriginAccessControlOriginType="s3",
                SigningBehavior="always",
                SigningProtocol="sigv4",
            ),
        ),
        cf.CachePolicy(
            CACHE_POLICY,
            CachePolicyConfig=cf.CachePolicyConfig(
                Name=Sub("${AWS::StackName}-immutable-images"),
                Comment="Outputs never change: keep them a year, key on the path alone",
                MinTTL=0,
                DefaultTTL=ONE_YEAR,
                MaxTTL=ONE_YEAR,
                ParametersInCacheKeyAndForwardedToOrigin=cf.ParametersInCacheKeyAndForwardedToOrigin(
                    EnableAcceptEncodingGzip=False,
                    EnableAcceptEncodingBrotli=False,
                    CookiesConfig=cf.CacheCookiesConfig(CookieBehavior="none"),
                    HeadersConfig=cf.CacheHeadersConfig(HeaderBehavior="none"),
                    QueryStringsConfig=cf.CacheQueryStringsConfig(QueryStringBehavior="none"),
                ),
            ),
        ),
    ]
    signed: dict[str, Any] = {}
    if config.cdn_public_key:
        resources += _signing_resources(config)
        signed["TrustedKeyGroups"] = [Ref(KEY_GROUP)]
    resources.append(
        cf.Distribution(
            DISTRIBUTION,
            DistributionConfig=cf.DistributionConfig(
                Comment=Sub("${AWS::StackName}: thumbnails from ${BucketName}/${ImagePath}"),
                Enabled=True,
                HttpVersion="http2and3",
                IPV6Enabled=True,
                PriceClass=config.cdn_price_class,
                Origins=[
                    cf.Origin(
                        Id=ORIGIN_ID,
                        DomainName=Sub("${BucketName}.s3.${AWS::Region}.${AWS::URLSuffix}"),
                        OriginAccessControlId=GetAtt(ORIGIN_ACCESS_CONTROL, "Id"),
                        # OAC, not the legacy origin access identity: the empty value is
                        # how CloudFormation says "none".
                        S3OriginConfig=cf.S3OriginConfig(OriginAccessIdentity=""),
                    )
                ],
                DefaultCacheBehavior=cf.DefaultCacheBehavior(
                    TargetOriginId=ORIGIN_ID,
                    ViewerProtocolPolicy="https-only",
                    AllowedMethods=["GET", "HEAD"],
                    CachedMethods=["GET", "HEAD"],
                    CachePolicyId=Ref(CACHE_POLICY),
                    ResponseHeadersPolicyId=SECURITY_HEADERS_POLICY_ID,
                    Compress=False,  # JPEG/WebP/AVIF are compressed already
                    **signed,
                ),
                ViewerCertificate=cf.ViewerCertificate(CloudFrontDefaultCertificate=True),
            ),
            Metadata=_skip(*_distribution_skips()),
            Tags=Tags({"async-image-upload:stack": config.stack_name}),
        )
    )
    return resources


def _distribution_skips() -> list[tuple[str, str]]:
    return [
        (
            "CKV_AWS_68",
            "A WAF web ACL bills per month and per request; the distribution serves only "
            "immutable images by GET/HEAD, and Shield Standard already covers it.",
        ),
        (
            "CKV_AWS_86",
            "Standard access logs need a log bucket with ACLs enabled that this stack does "
            "not own; turn them on (or real-time logs) on the distribution if you need them.",
        ),
        (
            "CKV_AWS_174",
            "The default *.cloudfront.net certificate cannot set MinimumProtocolVersion; "
            "put your own domain and ACM certificate (TLSv1.2_2021) on the distribution.",
        ),
    ]


def cdn_outputs(config: StackConfig) -> list[Output]:
    """The domain Django's CDN_DOMAIN takes, the ARN the bucket policy names, the key id."""
    outputs = [
        Output(
            "CdnDomainName",
            Value=GetAtt(DISTRIBUTION, "DomainName"),
            Description="ASYNC_IMAGE_UPLOAD['CDN_DOMAIN'] (with URL_MODE 'custom_domain')",
        ),
        Output("CdnDistributionId", Value=Ref(DISTRIBUTION), Description="The distribution"),
        Output(
            "CdnDistributionArn",
            Value=distribution_arn(),
            Description="The only reader of the image prefix (bucket policy AWS:SourceArn)",
        ),
    ]
    if config.cdn_public_key:
        outputs.append(
            Output(
                "CdnPublicKeyId",
                Value=Ref(public_key_id(config.cdn_public_key)),
                Description="ASYNC_IMAGE_UPLOAD['CLOUDFRONT_KEY_ID'] (the key pair id)",
            )
        )
    return outputs


class PublicKeyError(ValueError):
    """``--cdn-public-key`` names no usable key; the message says why and how to make one."""


_MAKE_ONE = (
    "Make a key pair with: openssl genrsa -out cdn-private.pem 2048 && "
    "openssl rsa -pubout -in cdn-private.pem -out cdn-public.pem"
)


def read_public_key(path: str) -> str:
    """The PEM text of the RSA 2048-bit public key at ``path`` (what CloudFront accepts).

    A private key is refused outright: it must never reach a template.
    """
    try:
        with open(path, encoding="ascii") as file:
            pem = file.read().strip()
    except FileNotFoundError:
        raise PublicKeyError(f"--cdn-public-key {path}: no such file. {_MAKE_ONE}") from None
    except (OSError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or exc
        raise PublicKeyError(f"--cdn-public-key {path}: cannot read it ({reason}).") from None
    if "PRIVATE KEY" in pem:
        raise PublicKeyError(
            f"--cdn-public-key {path} holds a PRIVATE key; pass the public half (openssl rsa "
            "-pubout) and keep the private key in ASYNC_IMAGE_UPLOAD['CLOUDFRONT_PRIVATE_KEY']."
        )
    try:
        from cryptography.hazmat.primitives.asymmetric import rsa
        from cryptography.hazmat.primitives.serialization import load_pem_public_key
    except ImportError:  # the cdn extra is not installed: the template check is all we have
        return pem
    try:
        key = load_pem_public_key(pem.encode())
    except ValueError:
        raise PublicKeyError(
            f"--cdn-public-key {path} is not a PEM public key. {_MAKE_ONE}"
        ) from None
    if not isinstance(key, rsa.RSAPublicKey) or key.key_size != 2048:
        raise PublicKeyError(
            f"--cdn-public-key {path}: CloudFront key groups take RSA 2048-bit keys. {_MAKE_ONE}"
        )
    return pem
