"""The replacement race, shared by the moto tier and the LocalStack tier.

Two clients POST different images to one upload key at the same moment and each
event is handled at once, as two Lambda invocations would be. Whatever the
interleaving, exactly one source's outputs may exist, the manifest must name that
source, and every ``ready`` callback must be the manifest's.
"""

from __future__ import annotations

import hashlib
import io
import json
import threading
import time
import uuid
from typing import Any

from PIL import Image

from lambda_function.handler import lambda_handler

from .conftest import CallbackServer, FakeContext

#: B's delays after A, cycled over the trials: from "at once" to "mid-run".
DELAYS_S = (0.0, 0.002, 0.01, 0.03, 0.06, 0.1, 0.15, 0.25)
#: The two sources, told apart by colour in every output.
COLOURS = {"A": (220, 30, 30), "B": (30, 30, 220)}


def solid_jpeg(colour: tuple[int, int, int]) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (96, 64), colour).save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


def event(bucket: str, key: str) -> dict[str, Any]:
    return {
        "Records": [
            {
                "eventName": "ObjectCreated:Post",
                "s3": {"bucket": {"name": bucket}, "object": {"key": key}},
            }
        ]
    }


def one_trial(
    s3: Any, bucket: str, callback_server: CallbackServer | None, delay_s: float = 0.0
) -> tuple[str, list[str]]:
    """Run one race; assert one consistent result; return the winner and the handlers' outcomes.

    B's POST comes ``delay_s`` after A's, so the runs overlap at different stages
    (both see B; A claims and B's bytes replace A's before its GET; B arrives mid-run).
    """
    upload_id = str(uuid.uuid4())
    key = f"temp/{upload_id}"
    bodies = {name: solid_jpeg(colour) for name, colour in COLOURS.items()}
    barrier = threading.Barrier(len(bodies))
    faults: list[BaseException] = []
    outcomes: list[str] = []

    def client_and_lambda(name: str) -> None:
        try:
            barrier.wait()
            if name == "B":
                time.sleep(delay_s)
            s3.put_object(Bucket=bucket, Key=key, Body=bodies[name], ContentType="image/jpeg")
            outcomes.extend(lambda_handler(event(bucket, key), FakeContext())["outcomes"])
        except BaseException as fault:  # reported by the main thread
            faults.append(fault)

    threads = [threading.Thread(target=client_and_lambda, args=(name,)) for name in bodies]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not faults, faults

    prefix = f"image/{upload_id}/"
    manifest = json.loads(s3.get_object(Bucket=bucket, Key=prefix + "manifest.json")["Body"].read())
    stored = manifest["callback"]
    assert stored["status"] == "ready", stored
    winner = next(name for name, body in bodies.items() if etag_of(body) == manifest["source_etag"])
    assert stored["source"]["etag"] == manifest["source_etag"]

    listed = s3.list_objects_v2(Bucket=bucket, Prefix=prefix).get("Contents", [])
    assert {item["Key"] for item in listed} == {
        prefix + "manifest.json",
        prefix + "claim.json",
        *(variant["key"] for variant in stored["variants"]),
    }
    for variant in stored["variants"]:
        data = s3.get_object(Bucket=bucket, Key=variant["key"])["Body"].read()
        assert len(data) == variant["bytes"], variant["key"]  # not rewritten by the loser
        with Image.open(io.BytesIO(data)) as image:
            pixel = image.convert("RGB").getpixel((image.width // 2, image.height // 2))
        assert _close(pixel, COLOURS[winner]), (variant["key"], pixel, winner)

    if callback_server is not None:
        mine = [p for p in callback_server.payloads() if p["upload_id"] == upload_id]
        assert mine, "no callback"
        assert all(p == stored for p in mine), "a callback disagrees with the manifest"
    return winner, sorted(outcomes)


def etag_of(body: bytes) -> str:
    """S3's ETag of a single-part upload: the MD5 of its bytes."""
    return hashlib.md5(body).hexdigest()  # noqa: S324


def _close(pixel: Any, colour: tuple[int, int, int]) -> bool:
    return all(abs(int(a) - b) <= 12 for a, b in zip(pixel, colour, strict=True))
