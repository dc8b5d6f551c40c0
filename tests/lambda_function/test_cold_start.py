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


def test_a_record_is_not_started_when_the_first_use_left_too_little_time(
    s3: Any, bucket: str, context: Any, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    """Making the S3 client (botocore's import, ~0.4 s CPU, more on a small function) is
    in the invocation's time: if it leaves less than a record needs, the record is not
    started and the event is retried. The clock is moved by wrapping the real client
    maker (Lambda's clock cannot be slowed here); the client and S3 are real.
    """
    from lambda_function import handler as handler_module
    from lambda_function.deadline import RESERVE_S, DeadlineError

    real_make_client = handler_module.make_client

    def make_client_slowly(endpoint_url: str | None) -> Any:
        client = real_make_client(endpoint_url)
        context.remaining_ms = int((RESERVE_S + 0.5) * 1000)  # less than MIN_START_S left
        return client

    monkeypatch.setattr(handler_module, "make_client", make_client_slowly)
    upload_id = str(uuid.uuid4())
    data = images.jpeg(images.photo_like(320, 240))
    etag = s3.put_object(Bucket=bucket, Key=f"temp/{upload_id}", Body=data)["ETag"].strip('"')
    event = s3_event(bucket, f"temp/{upload_id}", len(data), etag)

    with pytest.raises(DeadlineError, match="not started"):
        handler_module.lambda_handler(event, context)
    line = json.loads(capsys.readouterr().out.splitlines()[-1])
    assert line["outcome"] == "error" and "first_use" in line["timings_ms"]
    names = {item["Key"] for item in s3.list_objects_v2(Bucket=bucket).get("Contents", [])}
    assert names == {f"temp/{upload_id}"}  # nothing claimed or written: kept for the retry

    # The retry (same sandbox, client made) has its full time and finishes the upload.
    context.remaining_ms = 30_000
    assert handler_module.lambda_handler(event, context)["outcomes"] == ["ready"]
