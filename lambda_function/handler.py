"""Lambda entry point: S3 event in, variants + manifest in S3, signed callback out.

Handler string: ``lambda_function.handler.lambda_handler``.

Per record: HEAD the source and look for a manifest. If there is one the
upload is already final: resend its callback and delete the source, even if new
bytes were POSTed to the key since (never reprocess). Otherwise download, run
the pipeline, PUT the outputs, write the manifest last, send the callback and
delete the source. An unusable image becomes a ``failed`` callback; an S3
or callback fault is raised (after the other records ran) so Lambda retries.
A callback Django answers with 404 or 409 is ``rejected``: logged, not raised
(no retry can change it), and the source is deleted all the same.

Keys that are not ``<TEMP_FOLDER><uuid>`` are logged and skipped: Django only
ever issues UUID keys, so anything else was not uploaded through it and has
nobody to report to.
"""

from __future__ import annotations

import functools
import json
import re
import sys
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote_plus

from . import callback
from .config import Config, get_config
from .errors import ErrorCode, ImageError
from .limits import MAX_BLUR_RADIUS, MAX_VARIANTS
from .outputs import MANIFEST_NAME, file_name
from .pipeline import Output, Result, Spec, VariantSpec, process
from .storage import SourceObject, Storage, make_client

PAYLOAD_VERSION = 1
# Django accepts up to 2000 characters; a reason longer than this is noise anyway.
MAX_ERROR_MESSAGE = 500
_UPLOAD_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


@functools.cache
def _client(endpoint_url: str | None) -> Any:
    """One S3 client per container, created on first use (cold start)."""
    return make_client(endpoint_url)


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Process every record; raise the first transient fault after trying them all."""
    config = get_config()
    if event.get("Event") == "s3:TestEvent":
        _log({"outcome": "skipped", "reason": "s3_test_event"})
        return {"records": 0, "outcomes": []}
    remaining_s = _remaining_time(context)
    outcomes: list[str] = []
    faults: list[Exception] = []
    for record in event.get("Records") or []:
        line: dict[str, Any] = {"outcome": "error"}
        started = time.perf_counter()
        try:
            _process_record(record, config, remaining_s, line)
        except Exception as fault:  # logged here, re-raised below once every record had a go
            line["error"] = f"{type(fault).__name__}: {fault}"
            faults.append(fault)
        finally:
            line["total_ms"] = _ms(started)
            _log(line)
        outcomes.append(line["outcome"])
    if faults:
        raise faults[0]
    return {"records": len(outcomes), "outcomes": outcomes}


def _remaining_time(context: Any) -> Callable[[], float]:
    getter = getattr(context, "get_remaining_time_in_millis", None)
    if getter is None:  # invoked outside Lambda (scripts, local stack)
        deadline = time.monotonic() + 900
        return lambda: deadline - time.monotonic()
    return lambda: getter() / 1000


def _process_record(
    record: dict[str, Any], config: Config, remaining_s: Callable[[], float], line: dict[str, Any]
) -> None:
    """Handle one S3 record, filling ``line`` (the structured log entry) as it goes."""
    if not str(record.get("eventName", "")).startswith("ObjectCreated"):
        line.update(outcome="skipped", reason="not_object_created")
        return
    bucket = record["s3"]["bucket"]["name"]
    key = unquote_plus(record["s3"]["object"]["key"])
    line.update(bucket=bucket, key=key)
    if not key.startswith(config.temp_prefix):
        line.update(outcome="skipped", reason="outside_temp_prefix")
        return
    upload_id = key[len(config.temp_prefix) :]
    if not _UPLOAD_ID.fullmatch(upload_id):
        line.update(outcome="skipped", reason="key_is_not_an_upload_id")
        return
    line["upload_id"] = upload_id
    timings: dict[str, float] = {}
    line["timings_ms"] = timings
    storage = Storage(_client(config.s3_endpoint_url), bucket)
    output_prefix = f"{config.image_prefix}{upload_id}/"
    manifest_key = output_prefix + MANIFEST_NAME

    started = time.perf_counter()
    source = storage.head(key)
    manifest = storage.read_manifest(manifest_key)
    timings["head"] = _ms(started)

    if manifest is not None:
        # The first completed result is final (as ready/failed are in Django): a
        # duplicate or late event, or new bytes POSTed to the same key with a still
        # valid presigned POST. Resend the stored callback, never reprocess, since
        # the outputs are served as immutable.
        payload = manifest["callback"]
        replaced = source is not None and manifest.get("source_etag") != source.etag
        line.update(outcome="source_replaced" if replaced else "resent")
        line["status"] = payload.get("status")
        if replaced:
            line.update(source_etag=source.etag, manifest_source_etag=manifest.get("source_etag"))
        _deliver(payload, config, remaining_s, line)
        if source is not None and not config.keep_source:
            storage.delete(key)
        return

    if source is None:
        payload = _failed(upload_id, key, None, None, ImageError(ErrorCode.NOT_FOUND, "no source"))
        line.update(outcome="failed", error_code=ErrorCode.NOT_FOUND.value)
        _deliver(payload, config, remaining_s, line)
        return

    line["source_bytes"] = source.size
    payload = _make_outputs(storage, source, upload_id, output_prefix, config, line)
    started = time.perf_counter()
    storage.write_manifest(
        manifest_key,
        {"version": PAYLOAD_VERSION, "source_etag": source.etag, "callback": payload},
    )
    timings["manifest"] = _ms(started)
    _deliver(payload, config, remaining_s, line)
    if not config.keep_source:
        started = time.perf_counter()
        storage.delete(key)
        timings["delete"] = _ms(started)


def _make_outputs(
    storage: Storage,
    source: SourceObject,
    upload_id: str,
    output_prefix: str,
    config: Config,
    line: dict[str, Any],
) -> dict[str, Any]:
    """Download, process and store; return the callback payload (ready or failed)."""
    timings = line["timings_ms"]
    try:
        if source.size > config.max_source_bytes:
            raise ImageError(
                ErrorCode.TOO_LARGE, f"{source.size} bytes exceeds {config.max_source_bytes}"
            )
        started = time.perf_counter()
        data = storage.get(source)
        timings["get"] = _ms(started)
        result = process(data, spec_for(source, config))
    except ImageError as error:
        line.update(outcome="failed", error_code=error.code.value)
        return _failed(upload_id, source.key, source.etag, source.size, error)
    timings.update({f"pipeline_{stage}": ms for stage, ms in result.timings_ms.items()})
    started = time.perf_counter()
    variants = []
    for output in result.outputs:
        output_key = f"{output_prefix}{output_name(output)}"
        storage.put(output_key, output.data, output.content_type)
        variants.append(_variant_payload(output, output_key))
    timings["put"] = _ms(started)
    line.update(
        outcome="ready",
        format=result.format,
        width=result.width,
        height=result.height,
        outputs=len(result.outputs),
        output_bytes=sum(len(output.data) for output in result.outputs),
    )
    return _ready(upload_id, source, result, variants)


def output_name(output: Output) -> str:
    """File name of an output under the upload's prefix, per docs/contract.md."""
    return file_name(output.name, output.blurred, output.extension)


def spec_for(source: SourceObject, config: Config) -> Spec:
    """The pipeline spec: per-upload metadata where valid, environment defaults otherwise."""
    try:
        names = [name.strip() for name in source.metadata["variants"].split(",")]
        variants = tuple(dict.fromkeys(VariantSpec.parse(name) for name in names))
        if not 0 < len(variants) <= MAX_VARIANTS:
            raise ValueError("variant count out of range")
    except (KeyError, ValueError):
        variants = tuple(VariantSpec.parse(name) for name in config.default_variants)
    try:
        blur_radius = int(source.metadata["blur-radius"])
        if not 0 <= blur_radius <= MAX_BLUR_RADIUS:
            raise ValueError("blur radius out of range")
    except (KeyError, ValueError):
        blur_radius = config.blur_radius
    return Spec(
        variants=variants,
        blur_radius=blur_radius,
        output_format=config.output_format,
        quality=config.quality,
        max_bytes=config.max_source_bytes,
        max_pixels=config.max_pixels,
        max_animation_pixels=config.max_animation_pixels,
        background=config.background,
    )


def _variant_payload(output: Output, key: str) -> dict[str, Any]:
    return {
        "name": output.name,
        "key": key,
        "blurred": output.blurred,
        "width": output.width,
        "height": output.height,
        "display_width": output.display_width,
        "display_height": output.display_height,
        "bytes": len(output.data),
        "content_type": output.content_type,
    }


def _ready(
    upload_id: str, source: SourceObject, result: Result, variants: list[dict[str, Any]]
) -> dict[str, Any]:
    return {
        "version": PAYLOAD_VERSION,
        "upload_id": upload_id,
        "status": "ready",
        "source": {
            "key": source.key,
            "etag": source.etag,
            "format": result.format,
            "width": result.width,
            "height": result.height,
            "bytes": source.size,
        },
        "variants": variants,
        "placeholder": result.placeholder,
        "error": None,
    }


def _message(text: str) -> str:
    """``text`` cut to ``MAX_ERROR_MESSAGE`` characters (Django refuses over 2000)."""
    if len(text) <= MAX_ERROR_MESSAGE:
        return text
    return text[: MAX_ERROR_MESSAGE - 1] + "\N{HORIZONTAL ELLIPSIS}"


def _failed(
    upload_id: str, key: str, etag: str | None, size: int | None, error: ImageError
) -> dict[str, Any]:
    return {
        "version": PAYLOAD_VERSION,
        "upload_id": upload_id,
        "status": "failed",
        "source": {
            "key": key,
            "etag": etag,
            "format": None,
            "width": None,
            "height": None,
            "bytes": size,
        },
        "variants": [],
        "placeholder": None,
        "error": {"code": error.code.value, "message": _message(error.message)},
    }


def _deliver(
    payload: dict[str, Any],
    config: Config,
    remaining_s: Callable[[], float],
    line: dict[str, Any],
) -> None:
    if not config.callback_url:
        line["callback"] = "disabled"
        return
    body = json.dumps(payload, separators=(",", ":")).encode()
    started = time.perf_counter()
    delivery = callback.send(
        config.callback_url,
        config.callback_secret,
        body,
        remaining_s=remaining_s,
        timeout_s=config.callback_timeout,
        max_attempts=config.callback_max_attempts,
    )
    line.setdefault("timings_ms", {})["callback"] = _ms(started)
    line["callback"] = {"status": delivery.status, "attempts": delivery.attempts}
    if delivery.rejected:
        # 404/409: Django will never take this result. Not an error to retry: the
        # manifest keeps the result and the caller still deletes the source.
        line["callback"]["detail"] = delivery.detail
        line.update(outcome="rejected", status=payload.get("status"))


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 2)


def _log(line: dict[str, Any]) -> None:
    """One JSON object per line on stdout: CloudWatch Logs Insights parses it as is."""
    sys.stdout.write(json.dumps({"logger": "async_image_upload.lambda", **line}) + "\n")
    sys.stdout.flush()
