"""Cold start: the handler's import leaves heavy modules for first use, and first use works.

Each check runs in a fresh interpreter (a subprocess), as a new Lambda sandbox
does: in this test process every module is long loaded. The invocations run the
real handler in the child against moto's S3 server (``s3_server``); the timing
of all this is benchmarks/cold_start.py's job, not a test's.
"""

from __future__ import annotations

import io
import json
import struct
import subprocess
import sys
import uuid
import zlib
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from async_image_upload.testing.events import s3_event
from benchmarks.cold_start import CHILD, HEAVY, child_env, run_child

from . import images
from .test_privacy import SRGB, build_icc, gamma_curve

ROOT = Path(__file__).resolve().parents[2]
#: Loaded on first use only; none of them may be imported by ``import lambda_function.handler``.
LAZY = (*HEAVY, "urllib.request", "http.client")


def test_child_script_reports_the_modules_it_checks() -> None:
    assert "HEAVY_MODULES" in CHILD  # replaced by HEAVY when a child runs


def test_importing_the_handler_loads_no_heavy_module() -> None:
    """boto3/botocore, pillow-heif, LittleCMS, ImageMath and urllib wait for first use."""
    script = (
        "import sys, json\n"
        "import lambda_function.handler\n"
        f"print(json.dumps([m for m in {LAZY!r} if m in sys.modules]))\n"
    )
    completed = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=child_env(None, ROOT),
        timeout=60,
        check=True,
    )
    assert json.loads(completed.stdout.splitlines()[-1]) == []


def _p3_jpeg() -> bytes:
    """A JPEG with a non-sRGB (linear) profile: the pipeline converts it with LittleCMS."""
    linear = build_icc(SRGB, gamma_curve(1.0), b"linear")
    return images.encode(images.photo_like(320, 240), "JPEG", icc_profile=linear)


def _grey16_keyed_png() -> bytes:
    """A 16-bit grey PNG with a tRNS key: the pipeline needs ImageMath for its alpha."""
    width = height = 16
    row = b"\x00" + b"".join(struct.pack(">H", 1000 if x >= 8 else 60000) for x in range(width))
    return (
        b"\x89PNG\r\n\x1a\n"
        + images.png_chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 16, 0, 0, 0, 0))
        + images.png_chunk(b"tRNS", struct.pack(">H", 1000))
        + images.png_chunk(b"IDAT", zlib.compress(row * height))
        + images.png_chunk(b"IEND", b"")
    )


def _avif() -> bytes:
    buffer = io.BytesIO()
    images.photo_like(320, 240).save(buffer, "AVIF", quality=70)
    return buffer.getvalue()


#: name -> (bytes maker, the lazily loaded module its first invocation must have loaded)
FIRST_USES: dict[str, tuple[Any, str | None]] = {
    "jpeg": (lambda: images.jpeg(images.photo_like(320, 240)), None),
    "jpeg_with_linear_profile": (_p3_jpeg, "PIL.ImageCms"),
    "heic": (lambda: images.heic(images.photo_like(320, 240)), "pillow_heif"),
    "avif": (_avif, None),
    "webp": (lambda: images.encode(images.photo_like(320, 240), "WEBP"), None),
    "png_16_bit_keyed": (_grey16_keyed_png, "PIL.ImageMath"),
}


@pytest.mark.parametrize("name", sorted(FIRST_USES))
def test_first_invocation_in_a_fresh_interpreter_works_for_every_format(
    name: str, s3_server: str, aws_client: Any
) -> None:
    """The first upload a new sandbox sees is processed, whatever it needs to load first."""
    make, needs = FIRST_USES[name]
    data = make()
    s3 = aws_client("s3")
    bucket = f"cold-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=bucket)
    upload_id = str(uuid.uuid4())
    key = f"temp/{upload_id}"
    etag = s3.put_object(Bucket=bucket, Key=key, Body=data)["ETag"].strip('"')

    result = run_child(child_env(s3_server, ROOT), s3_event(bucket, key, len(data), etag), ROOT)

    assert result["outcomes"] == ["ready"]
    assert result["loaded_after_import"] == []
    # The S3 client is botocore's own: boto3's wrapper and s3transfer are never needed.
    assert not {"boto3", "s3transfer"} & set(result["loaded_after_invoke"])
    if needs is not None:
        assert needs in result["loaded_after_invoke"]
    listed = s3.list_objects_v2(Bucket=bucket, Prefix=f"image/{upload_id}/")["Contents"]
    names = {entry["Key"].rsplit("/", 1)[1] for entry in listed}
    assert "manifest.json" in names
    thumbnail = next(n for n in names if n.startswith("100x100."))
    body = s3.get_object(Bucket=bucket, Key=f"image/{upload_id}/{thumbnail}")["Body"].read()
    assert max(Image.open(io.BytesIO(body)).size) <= 100
