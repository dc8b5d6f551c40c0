"""What the command tells the user: the settings to paste, and drift against a stack."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from async_image_upload._memory_table import memory_warning
from async_image_upload.infra.config import StackConfig

#: Parameters whose deployed value says nothing about the Django settings.
_UNCOMPARED = {"CodeBucket", "CodeKey", "CallbackSecretArn", "CallbackSecretVersion"}


def settings_snippet(config: StackConfig, outputs: dict[str, str]) -> str:
    """The exact ``ASYNC_IMAGE_UPLOAD`` entries that match the deployed stack.

    The callback secret is never printed: by default both sides derive it from
    SECRET_KEY, and an explicit CALLBACK_SECRETS is already in the user's settings.
    """
    values: dict[str, Any] = {
        "BUCKET": outputs.get("BucketName", config.bucket_name),
        "REGION": outputs.get("Region", config.region),
        "TEMP_PREFIX": config.temp_prefix,
        "IMAGE_PREFIX": config.image_prefix,
        "VARIANTS": list(config.variants),
        "BLUR": config.blur,
        "BLUR_RADIUS": config.blur_radius,
        "CALLBACK_URL": config.callback_url,
    }
    if outputs.get("CdnDomainName"):
        values["URL_MODE"] = "custom_domain"
        values["CDN_DOMAIN"] = outputs["CdnDomainName"]
    if outputs.get("CdnPublicKeyId"):
        values["CLOUDFRONT_KEY_ID"] = outputs["CdnPublicKeyId"]
    lines = ["ASYNC_IMAGE_UPLOAD = {"]
    lines += [f"    {key!r}: {value!r}," for key, value in values.items()]
    if outputs.get("CdnPublicKeyId"):
        lines.append(
            "    # CLOUDFRONT_PRIVATE_KEY: the PEM text of the private key, read from your "
            "secret store"
        )
        lines.append(
            "    # or environment (never commit it), e.g. os.environ['CLOUDFRONT_PRIVATE_KEY']."
        )
    lines.append(
        "    # CALLBACK_SECRETS: keep what you have (not shown). Unset, it is derived from "
        "SECRET_KEY;"
    )
    lines.append(
        "    # after rotating SECRET_KEY, deploy again so the Lambda signs with the new one."
    )
    lines.append("}")
    return "\n".join(lines)


def cdn_summary(config: StackConfig) -> list[str]:
    """What ``--cdn`` adds, for the dry run (and the reader of a CI log)."""
    if not config.cdn:
        return ["CDN: none (images are read from S3 as URL_MODE says; --cdn adds CloudFront)."]
    from async_image_upload.infra.cdn import ONE_YEAR, READ_STATEMENT_SID

    lines = [
        f"CDN: a CloudFront distribution ({config.cdn_price_class}) in front of "
        f"{config.bucket_name}/{config.image_prefix}*:",
        "  viewers: HTTPS only (https-only), GET/HEAD, HTTP/2 and 3",
        "  origin: the bucket through Origin Access Control (SigV4); the bucket stays private "
        f"and its policy statement {READ_STATEMENT_SID!r} lets this distribution alone "
        f"(AWS:SourceArn) read {config.image_prefix}*",
        f"  cache: {ONE_YEAR} s by default and at most, keyed on the path only (no cookies, "
        "headers or query strings)",
    ]
    if config.cdn_public_key:
        lines.append(
            "  signed: every request needs a CloudFront signed URL or signed cookies "
            "(a PublicKey and KeyGroup from --cdn-public-key; Django signs with the private key)"
        )
    else:
        lines.append("  signed: no (anyone with an image URL can load it)")
    outputs = "CdnDomainName, CdnDistributionId, CdnDistributionArn"
    if config.cdn_public_key:
        outputs += ", CdnPublicKeyId"
    lines.append(f"  outputs: {outputs}")
    lines.append(
        "  Django: URL_MODE 'custom_domain' with CDN_DOMAIN = CdnDomainName"
        + (
            ", CLOUDFRONT_KEY_ID = CdnPublicKeyId, CLOUDFRONT_PRIVATE_KEY"
            if config.cdn_public_key
            else ""
        )
    )
    return lines


def drift(
    config: StackConfig,
    expected_parameters: dict[str, str],
    deployed_parameters: dict[str, str],
    deployed_metadata: dict[str, Any],
) -> list[str]:
    """Differences between the settings now and what the stack was deployed with."""
    problems = []
    for key, value in sorted(expected_parameters.items()):
        if key in _UNCOMPARED:
            continue
        if deployed_parameters.get(key) != value:
            problems.append(
                f"parameter {key}: deployed {deployed_parameters.get(key)!r}, "
                f"settings say {value!r}"
            )
    recorded = deployed_metadata.get("AsyncImageUpload", {})
    for key, value in config.settings_summary.items():
        if recorded.get(key) != value:
            problems.append(f"{key}: deployed {recorded.get(key)!r}, settings say {value!r}")
    return problems


def memory_warning_for(config: StackConfig, content_types: Iterable[str]) -> str | None:
    """Why the stack's memory cannot hold every upload the settings allow (None if it can).

    The same estimate as the Lambda's budget and the system check W004.
    """
    problem = memory_warning(
        config.memory_mb, list(content_types), config.variants, config.max_upload_bytes
    )
    if problem is None:
        return None
    return f"{problem} Deploy with --memory set to that size to accept them."


def cors_summary(config: StackConfig, source: str) -> str:
    """One line for the dry run: which browser origins may POST uploads, and why."""
    if not config.is_new_bucket:
        return (
            "CORS: an existing bucket's CORS rules are not changed; browsers can upload "
            "only if they already allow POST from your site's origin (docs/deploy.md)."
        )
    if not config.cors_origins:
        return "CORS: none. " + (cors_warning(config) or "")
    return f"CORS: browsers may POST uploads from {', '.join(config.cors_origins)} (from {source})."


def cors_warning(config: StackConfig) -> str | None:
    """A loud warning when a new bucket gets no CORS rule (None when it gets one)."""
    if not config.is_new_bucket or config.cors_origins:
        return None
    return (
        "WARNING: the new bucket gets NO CORS rule, so browsers (the admin widget, the JS "
        "client) cannot upload to it; only mobile and server clients can. Pass "
        "--cors-origin https://your.site, or set CSRF_TRUSTED_ORIGINS or "
        "ASYNC_IMAGE_UPLOAD['DEPLOY_CORS_ORIGINS'] (docs/deploy.md)."
    )
