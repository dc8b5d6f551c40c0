"""Measure the real pipeline on one file, in a fresh process per file.

Why a subprocess: peak memory is the number that decides whether a Lambda size
runs out of memory, and only a fresh process's own peak tells it for one photo
alone (tracemalloc misses Pillow's C buffers; RSS in a long-lived process keeps
the high-water mark of the largest photo seen so far). The peak is the child's
``VmHWM`` on Linux, what Lambda reports as Max Memory Used: ``ru_maxrss`` would
carry over, through fork and exec, whatever the parent had resident at the fork
(1.5 GB under a test runner that had just made 49 MP images). The child imports
what the Lambda's INIT imports (the handler and Pillow) and creates the S3 client
(botocore) as the first invocation does, so its baseline memory and start-up
time are the function's, not a bare interpreter's.

The S3 client's own CPU work (signing, checksums, parsing) is measured too, by
running the handler's exact request sequence (HEAD, GET manifest, claim PUT,
GET source, output PUTs, manifest PUT, DELETE) through its real ``Storage`` class
with botocore's ``before-send`` hook answering locally: nothing leaves the
machine, and the network's share is left to the model's stated assumptions.

Run as ``python -m async_image_upload.tuning.measure PATH SPEC_JSON REPEATS``; it
prints one JSON line. Django is never imported in the child.
"""

from __future__ import annotations

import io
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from async_image_upload.tuning.model import Measurement

#: A photo that takes longer than this is reported as a bad file, not waited for.
TIMEOUT_SECONDS = 300


@dataclass(frozen=True)
class Failure:
    """A file the pipeline refused or could not measure; listed, never fatal."""

    name: str
    code: str
    message: str


def measure_file(path: Path, spec: dict[str, Any], repeats: int = 3) -> Measurement | Failure:
    """Run the pipeline on ``path`` in a child process; a measurement or the reason it failed."""
    command = [sys.executable, "-m", __name__, str(path), json.dumps(spec), str(repeats)]
    env = {
        **os.environ,
        # The child must find the same packages (the app, the Lambda source) as this process.
        "PYTHONPATH": os.pathsep.join(entry for entry in sys.path if entry),
        "AWS_DEFAULT_REGION": os.environ.get("AWS_DEFAULT_REGION", "us-east-1"),
        # The child signs requests that a local hook answers; it must never hold real keys.
        "AWS_ACCESS_KEY_ID": "measure-only",
        "AWS_SECRET_ACCESS_KEY": "measure-only",
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    }
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3"):
        env.pop(name, None)
    try:
        completed = subprocess.run(  # noqa: S603 - our own module, arguments we built
            command, capture_output=True, text=True, timeout=TIMEOUT_SECONDS, env=env, check=False
        )
    except subprocess.TimeoutExpired:
        return Failure(str(path), "timeout", f"no result within {TIMEOUT_SECONDS} s")
    lines = completed.stdout.strip().splitlines()
    if completed.returncode != 0 or not lines:
        tail = (completed.stderr.strip().splitlines() or ["no output"])[-1]
        return Failure(str(path), "crashed", f"exit status {completed.returncode}: {tail}")
    result = json.loads(lines[-1])
    if "error" in result:
        return Failure(str(path), result["error"], result["message"])
    return Measurement(name=str(path), **result)


def _child(path: Path, spec_data: dict[str, Any], repeats: int) -> dict[str, Any]:
    """Everything the parent needs from one photo, as JSON-ready values."""
    started = time.perf_counter()
    from async_image_upload.local.lambda_loader import import_lambda_module

    errors = import_lambda_module("errors")
    pipeline = import_lambda_module("pipeline")
    storage = import_lambda_module("storage")
    import_lambda_module("handler")
    client = storage.make_client(None)  # built on the first invocation: part of a cold start
    init_s = time.perf_counter() - started

    data = path.read_bytes()
    variants = tuple(pipeline.VariantSpec.parse(name) for name in spec_data.pop("variants"))
    if "background" in spec_data:
        spec_data["background"] = tuple(spec_data["background"])
    spec = pipeline.Spec(variants=variants, **spec_data)
    try:
        result = pipeline.process(data, spec)  # warm-up: caches, lazily loaded plugins
    except errors.ImageError as error:
        return {"error": error.code.value, "message": error.message}
    outputs = len(result.outputs)
    output_bytes = sum(len(output.data) for output in result.outputs)
    size = (result.width, result.height)
    cpu, wall = [], []
    for _ in range(repeats):
        result = None  # the Lambda holds one photo's outputs at a time, not two
        cpu_start, wall_start = time.process_time(), time.perf_counter()
        result = pipeline.process(data, spec)
        cpu.append(time.process_time() - cpu_start)
        wall.append(time.perf_counter() - wall_start)
    s3_cpu_s = _s3_cpu_seconds(storage, client, data, result.outputs)
    peak_kib = _peak_rss_kib()
    return {
        "bytes": len(data),
        "width": size[0],
        "height": size[1],
        "cpu_s": statistics.median(cpu),
        "wall_s": statistics.median(wall),
        "peak_rss_mb": peak_kib / 1024,
        "init_s": init_s,
        "s3_cpu_s": s3_cpu_s,
        "outputs": outputs,
        "output_bytes": output_bytes,
    }


def _peak_rss_kib() -> float:
    """This process's own peak resident set, in KiB (see the module docstring)."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return float(line.split()[1])
    except OSError:
        pass  # not Linux
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 1024 if sys.platform == "darwin" else peak  # macOS counts bytes


class _LocalBody:
    """Just enough of an HTTP response body for botocore to parse or stream."""

    def __init__(self, body: bytes) -> None:
        self._buffer = io.BytesIO(body)

    def read(self, amt: int | None = None, **kwargs: Any) -> bytes:
        return self._buffer.read() if amt is None else self._buffer.read(amt)

    def stream(self, **kwargs: Any) -> Any:
        while chunk := self._buffer.read(65536):
            yield chunk


def _s3_cpu_seconds(storage: Any, client: Any, data: bytes, outputs: Any) -> float:
    """CPU seconds of the handler's S3 calls for one photo, answered by a local hook."""
    from botocore.awsrequest import AWSResponse

    def answer(request: Any, **kwargs: Any) -> AWSResponse:
        key = urlsplit(request.url).path
        body = b"{}" if key.endswith(".json") else data
        body = body if request.method == "GET" else b""
        headers = {
            "ETag": '"0"',
            "Content-Length": str(len(data) if request.method == "HEAD" else len(body)),
        }
        return AWSResponse(request.url, 200, headers, _LocalBody(body))

    client.meta.events.register("before-send", answer)
    bucket = storage.Storage(client, "measure-only")

    def handler_requests() -> None:
        source = bucket.head("temp/source")
        bucket.read_manifest("image/source/manifest.json")
        bucket.put_if("image/source/claim.json", b"{}", if_none_match=True)  # the claim
        bucket.get(source)
        for output in outputs:
            bucket.put(
                f"image/source/{output.name}.{output.extension}", output.data, output.content_type
            )
        bucket.write_manifest("image/source/manifest.json", {"callback": {"variants": []}})
        bucket.delete("temp/source")

    handler_requests()  # warm-up: botocore loads operation models on first use
    started = time.process_time()
    handler_requests()
    return time.process_time() - started


def main(argv: list[str]) -> None:
    path, spec_json, repeats = argv
    try:
        result = _child(Path(path), json.loads(spec_json), max(1, int(repeats)))
    except OSError as exc:
        result = {"error": "unreadable", "message": str(exc)}
    print(json.dumps(result))


if __name__ == "__main__":
    main(sys.argv[1:])
