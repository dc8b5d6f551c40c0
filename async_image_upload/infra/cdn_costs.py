"""What a million image views cost served by CloudFront versus straight from S3.

The prices and the thumbnail mix are data, in one place: docs/deploy.md's table
is :func:`cost_table_markdown` of these defaults (a test keeps them equal), so a
price change is made here and the doc follows.
"""

from __future__ import annotations

from dataclasses import dataclass

#: AWS bills data transfer per GB of 2**30 bytes.
GB = 2**30


@dataclass(frozen=True)
class DeliveryPrices:
    """USD list prices, first tier, no free tier. ``as_of``: the day they were read."""

    as_of: str = "2026-12-02"
    #: CloudFront, United States/Mexico/Canada and Europe: data transfer out, first 10 TB.
    cloudfront_per_gb: float = 0.085
    #: CloudFront HTTPS requests, United States: $0.0100 per 10,000.
    cloudfront_per_request: float = 0.0100 / 10_000
    #: S3 (us-east-1): data transfer out to the internet, first 10 TB.
    s3_per_gb: float = 0.09
    #: S3 Standard GET: $0.0004 per 1,000 (also what each CloudFront cache miss costs;
    #: the transfer from S3 to CloudFront is free).
    s3_per_get: float = 0.0004 / 1000
    source: str = (
        "aws.amazon.com/cloudfront/pricing and aws.amazon.com/s3/pricing, first tier, "
        "without the free tiers (CloudFront's always-free 1 TB and 10 million requests a "
        "month, S3's 100 GB of transfer)"
    )


@dataclass(frozen=True)
class Share:
    """One variant's part of the views, and its typical size."""

    variant: str
    share: float
    bytes: int


#: A gallery-style mix: mostly the 400x400 grid image (31 kB, the contract's example),
#: list thumbnails, and the original now and then. An assumption, not a measurement:
#: put your own traffic's mix in to get your numbers.
TYPICAL_MIX = (
    Share("400x400", 0.60, 31_000),
    Share("100x100", 0.25, 5_000),
    Share("50x50", 0.10, 2_000),
    Share("original", 0.05, 1_500_000),
)
#: Share of CloudFront requests answered from its cache for immutable, year-long objects.
CDN_HIT_RATIO = 0.90
VIEWS = 1_000_000


def average_bytes(mix: tuple[Share, ...] = TYPICAL_MIX) -> float:
    return sum(part.share * part.bytes for part in mix)


def per_million_views(
    prices: DeliveryPrices = DeliveryPrices(),
    mix: tuple[Share, ...] = TYPICAL_MIX,
    hit_ratio: float = CDN_HIT_RATIO,
) -> dict[str, dict[str, float]]:
    """USD for a million image requests that reach AWS, by where they are served from.

    Repeat views a browser answers from its cache (what the windowed URLs and the
    ``immutable`` Cache-Control are for) cost nothing either way and are not counted.
    """
    gigabytes = VIEWS * average_bytes(mix) / GB
    s3_requests = VIEWS * prices.s3_per_get
    s3_transfer = gigabytes * prices.s3_per_gb
    cdn_requests = VIEWS * prices.cloudfront_per_request
    cdn_transfer = gigabytes * prices.cloudfront_per_gb
    origin_gets = VIEWS * (1 - hit_ratio) * prices.s3_per_get
    return {
        "S3 (presigned URLs)": {
            "requests": s3_requests,
            "transfer": s3_transfer,
            "origin": 0.0,
            "total": s3_requests + s3_transfer,
        },
        "CloudFront (--cdn)": {
            "requests": cdn_requests,
            "transfer": cdn_transfer,
            "origin": origin_gets,
            "total": cdn_requests + cdn_transfer + origin_gets,
        },
    }


def cost_table_markdown(prices: DeliveryPrices = DeliveryPrices()) -> str:
    """The table docs/deploy.md shows, from :func:`per_million_views`."""
    lines = [
        "| served by | requests | data transfer | S3 GETs on cache misses | total |",
        "|---|---|---|---|---|",
    ]
    for name, cost in per_million_views(prices).items():
        origin = f"${cost['origin']:.2f}" if name.startswith("CloudFront") else "—"
        lines.append(
            f"| {name} | ${cost['requests']:.2f} | ${cost['transfer']:.2f} | {origin} "
            f"| **${cost['total']:.2f}** |"
        )
    return "\n".join(lines)
