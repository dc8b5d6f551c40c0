"""Lambda entry point: S3 event in, variants + manifest in S3, signed callback out.

Handler string: ``lambda_function.handler.lambda_handler``.

Per record: HEAD the source and look for a manifest. If there is one the
upload is already final: resend its callback and delete the source, even if new
bytes were POSTed to the key since (never reprocess). Otherwise claim the key
(:mod:`.claim`: one processing per key; a run that finds it held for other
bytes is ``source_replaced`` and writes nothing), download, run the pipeline,
PUT the outputs, write the manifest last, send the callback and delete the
source. An unusable image becomes a ``failed`` callback; an S3
or callback fault is raised (after the other records ran) so Lambda retries.
A callback Django answers with 404 or 409 is ``rejected``: logged, not raised
(no retry can change it), and the source is deleted all the same.

This module only orchestrates: which records count (:mod:`.events`), the spec
(:mod:`.metadata`), the pixels (:mod:`.pipeline`), the callback body
(:mod:`.payload`), S3 (:mod:`.storage`), delivery (:mod:`.callback`), the
time (:mod:`.deadline`) and the log line (:mod:`.log_record`) each live in
their own module.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from . import callback, claim, events, payload
from .config import Config, get_config
from .deadline import Deadline, processing_timeout, run_watched
from .errors import ErrorCode, ImageError
from .log_record import LogRecord, elapsed_ms, write
from .metadata import spec_for
from .outputs import CLAIM_NAME, MANIFEST_NAME, file_name
from .pipeline import process
from .storage import SourceChanged, SourceObject, Storage, make_client


class _Clients:
    """One S3 client per container and endpoint, made on first use and then shared.

    Made in the first invocation, not at import (:mod:`.storage` says why); that
    first use also loads the callback's HTTP client, so that a failure reported
    from the reserve never waits on an import. The time it took is logged as
    ``timings_ms.first_use``. ``cache_clear`` (tests) forgets the clients.
    """

    def __init__(self) -> None:
        self._made: dict[str | None, Any] = {}
        self._lock = threading.Lock()

    def __call__(self, endpoint_url: str | None, log: LogRecord | None = None) -> Any:
        client = self._made.get(endpoint_url)
        if client is not None:
            return client
        with self._lock:
            client = self._made.get(endpoint_url)
            if client is None:
                started = time.perf_counter()
                client = self._made[endpoint_url] = make_client(endpoint_url)
                callback.prepare()
                if log is not None:
                    log.timing("first_use", elapsed_ms(started))
        return client

    def cache_clear(self) -> None:
        with self._lock:
            self._made.clear()


_client = _Clients()


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """What Lambda calls: :func:`handle` with the environment's configuration.

    ``get_config`` reads the environment once per cold start and caches it.
    """
    return handle(event, context, get_config())


def handle(event: dict[str, Any], context: Any, config: Config) -> dict[str, Any]:
    """Process every record with ``config``; raise the first transient fault after trying them all.

    Takes its configuration as an argument so in-process runners (the local
    stack, a local replay) can pass their own without touching ``os.environ``.
    """
    if events.is_test_event(event):
        write({"outcome": "skipped", "reason": "s3_test_event"})
        return {"records": 0, "outcomes": []}
    deadline = Deadline.from_context(context)
    outcomes: list[str] = []
    faults: list[Exception] = []
    batch = events.records(event)
    if not batch:  # an event of another shape: say so rather than return 0 silently
        write({"outcome": "skipped", "reason": "no_s3_records", "event_keys": sorted(event)[:10]})
    for record in batch:
        log = LogRecord()
        try:
            _process_record(record, config, deadline, log)
        except Exception as fault:  # logged here, re-raised below once every record had a go
            log.fault(fault)
            faults.append(fault)
        finally:
            log.emit()
        outcomes.append(log.outcome)
    if faults:
        raise faults[0]
    return {"records": len(outcomes), "outcomes": outcomes}


def _process_record(
    record: dict[str, Any], config: Config, deadline: Deadline, log: LogRecord
) -> None:
    """Handle one S3 record, noting on ``log`` what happened."""
    upload = events.parse_record(record, config.temp_prefix)
    if isinstance(upload, events.Skipped):
        log.set(**upload.log_fields())
        return
    log.set(bucket=upload.bucket, key=upload.key, upload_id=upload.upload_id)
    deadline.ensure_can_start()  # DeadlineError: not started, the event is retried
    remaining_s = deadline.remaining_s
    log.time_stages()
    storage = Storage(
        _client(config.s3_endpoint_url, log), upload.bucket, cache_control=config.cache_control
    )
    if "first_use" in log.fields["timings_ms"]:
        deadline.ensure_can_start()  # making the client spent this invocation's time: again
    output_prefix = f"{config.image_prefix}{upload.upload_id}/"
    manifest_key = output_prefix + MANIFEST_NAME

    with log.stage("head"):
        source = storage.head(upload.key)
        manifest = storage.read_manifest(manifest_key)

    if manifest is not None:
        # The first completed result is final (as ready/failed are in Django): a
        # duplicate or late event, or new bytes POSTed to the same key with a still
        # valid presigned POST. Resend the stored callback, never reprocess, since
        # the outputs are served as immutable.
        stored = manifest["callback"]
        replaced = source is not None and manifest.get("source_etag") != source.etag
        log.set(outcome="source_replaced" if replaced else "resent", status=stored.get("status"))
        if replaced:
            log.set(source_etag=source.etag, manifest_source_etag=manifest.get("source_etag"))
        _deliver(stored, config, remaining_s, log)
        if source is not None and not config.keep_source:
            storage.delete(upload.key)
        return

    if source is None:
        error = ImageError(ErrorCode.NOT_FOUND, "no source")
        log.set(outcome="failed", error_code=ErrorCode.NOT_FOUND.value)
        failure = payload.failed(upload.upload_id, upload.key, None, None, error)
        _deliver(failure, config, remaining_s, log)
        return

    log.set(source_bytes=source.size)
    made = _claim_and_make(storage, source, upload.upload_id, output_prefix, config, deadline, log)
    if made is None:
        return
    body, source = made
    with log.stage("manifest"):
        storage.write_manifest(manifest_key, payload.manifest(body, source.etag))
    _deliver(body, config, remaining_s, log)
    if not config.keep_source:
        with log.stage("delete"):
            storage.delete(upload.key)


def _claim_and_make(
    storage: Storage,
    source: SourceObject,
    upload_id: str,
    output_prefix: str,
    config: Config,
    deadline: Deadline,
    log: LogRecord,
) -> tuple[payload.Payload, SourceObject] | None:
    """Claim the key for ``source`` (:mod:`.claim`), then make the outputs; None if it is held.

    If the claimed bytes are replaced before they are downloaded nothing of them can
    be processed: the claim moves (``If-Match`` on it) to the bytes now there.
    """
    claim_key = output_prefix + CLAIM_NAME
    with log.stage("claim"):
        decision = claim.take(storage, claim_key, source.etag, time.time())
    if decision.won and decision.claim is not None:
        try:
            return _watched_outputs(
                storage, source, upload_id, output_prefix, config, deadline, log
            ), source
        except SourceChanged:
            current = storage.head(source.key)
            if current is None:
                raise
            source = current
            log.set(source_bytes=source.size)
            decision = claim.move(storage, claim_key, decision.claim, source.etag, time.time())
        if decision.won:  # a second change raises SourceChanged: Lambda retries the event
            return _watched_outputs(
                storage, source, upload_id, output_prefix, config, deadline, log
            ), source
    holder = decision.holder.source_etag if decision.holder else None
    log.set(outcome="source_replaced", source_etag=source.etag, claim_source_etag=holder)
    return None


def _watched_outputs(
    storage: Storage,
    source: SourceObject,
    upload_id: str,
    output_prefix: str,
    config: Config,
    deadline: Deadline,
    log: LogRecord,
) -> payload.Payload:
    """:func:`_make_outputs` in a watched worker; ``processing_timeout`` if it overruns."""
    record_deadline = deadline.for_record()
    worker_log = LogRecord()  # the worker's own: an abandoned worker never writes ours
    budget_s = record_deadline.left_s()
    watched = run_watched(
        lambda: _make_outputs(
            storage, source, upload_id, output_prefix, config, record_deadline, worker_log
        ),
        record_deadline,
    )
    if watched.finished:
        log.absorb(worker_log)
        return watched.value
    error = processing_timeout(f"processing did not finish in the {budget_s:.1f} s it had")
    log.set(outcome="failed", error_code=error.code.value, worker="abandoned")
    return payload.failed(upload_id, source.key, source.etag, source.size, error)


def _make_outputs(
    storage: Storage,
    source: SourceObject,
    upload_id: str,
    output_prefix: str,
    config: Config,
    deadline: Deadline,
    log: LogRecord,
) -> payload.Payload:
    """Download, process and store; return the callback payload (ready or failed)."""
    try:
        if source.size > config.max_source_bytes:
            raise ImageError(
                ErrorCode.TOO_LARGE, f"{source.size} bytes exceeds {config.max_source_bytes}"
            )
        deadline.checkpoint()
        with log.stage("get"):
            data = storage.get(source)
        result = process(data, spec_for(source, config), checkpoint=deadline.checkpoint)
    except ImageError as error:
        log.set(outcome="failed", error_code=error.code.value)
        return payload.failed(upload_id, source.key, source.etag, source.size, error)
    for stage, ms in result.timings_ms.items():
        log.timing(f"pipeline_{stage}", ms)
    variants = []
    with log.stage("put"):
        for output in result.outputs:
            deadline.stop_if_called_off()  # never an output after the timeout was reported
            output_key = output_prefix + file_name(output.name, output.blurred, output.extension)
            storage.put(output_key, output.data, output.content_type)
            variants.append(payload.variant(output, output_key))
    log.set(
        outcome="ready",
        format=result.format,
        width=result.width,
        height=result.height,
        outputs=len(result.outputs),
        output_bytes=sum(len(output.data) for output in result.outputs),
        # The memory budget's estimate, beside CloudWatch's "Max Memory Used" for the
        # same invocation: how much margin the budget really keeps, per format.
        memory_estimate_mb=result.memory_estimate_mb,
    )
    return payload.ready(upload_id, source, result, variants)


def _deliver(
    body: payload.Payload, config: Config, remaining_s: Callable[[], float], log: LogRecord
) -> None:
    """Send the callback (if one is configured) and note how it went."""
    if not config.callback_url:
        log.set(callback="disabled")
        return
    with log.stage("callback"):
        delivery = callback.send(
            config.callback_url,
            config.callback_secret,
            payload.encode(body),
            remaining_s=remaining_s,
            timeout_s=config.callback_timeout,
            max_attempts=config.callback_max_attempts,
        )
    outcome: dict[str, Any] = {"status": delivery.status, "attempts": delivery.attempts}
    if delivery.rejected:
        # 404/409: Django will never take this result. Not an error to retry: the
        # manifest keeps the result and the caller still deletes the source.
        outcome["detail"] = delivery.detail
        log.set(outcome="rejected", status=body.get("status"))
    log.set(callback=outcome)
