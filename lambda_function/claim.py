"""One processing per upload key: a conditional claim object in S3.

Outputs are served as ``immutable``, so once a run starts writing them no other
source may write to the same prefix. Before the first output, a run creates
``<IMAGE_PREFIX><id>/claim.json`` (``outputs.CLAIM_NAME``) with
``If-None-Match: *``; S3 lets exactly one of any number of concurrent writers
succeed. The claim names the source ETag it
was taken for:

* the same ETag again (a duplicate or retried event) proceeds: the pipeline is
  deterministic, so a second run writes the very same bytes;
* another ETag (new bytes POSTed to the key) is ``source_replaced`` and writes
  nothing, whatever the timing;
* a claim older than ``takeover_after_s`` with no manifest was left by a run that
  died; it is replaced with ``If-Match: <claim ETag>``, so of several takers only
  one wins.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from .storage import Storage

#: Longer than any Lambda run (15 min at most) so a live holder is never taken over.
TAKEOVER_AFTER_S = 960.0


@dataclass(frozen=True)
class Claim:
    """The claim object as read back: whose it is and since when."""

    etag: str
    source_etag: str
    claimed_at: float


@dataclass(frozen=True)
class Decision:
    """Whether this run may process; if not, ``holder`` names the source that holds the key."""

    won: bool
    claim: Claim | None
    holder: Claim | None = None


def _body(source_etag: str, now: float) -> bytes:
    return json.dumps({"source_etag": source_etag, "claimed_at": now}, sort_keys=True).encode()


def read(storage: Storage, key: str) -> Claim | None:
    """The current claim, or None if there is none; an unreadable one counts as very old."""
    found = storage.read_with_etag(key)
    if found is None:
        return None
    etag, body = found
    try:
        fields = json.loads(body)
        return Claim(etag, str(fields["source_etag"]), float(fields["claimed_at"]))
    except (ValueError, KeyError, TypeError):
        return Claim(etag, "", 0.0)


def take(
    storage: Storage,
    key: str,
    source_etag: str,
    now: float,
    takeover_after_s: float = TAKEOVER_AFTER_S,
    attempts: int = 3,
) -> Decision:
    """Claim ``key`` for ``source_etag``; decide from S3's answer, never from a prior read alone."""
    body = _body(source_etag, now)
    for _ in range(attempts):
        etag = storage.put_if(key, body, if_none_match=True)
        if etag is not None:
            return Decision(True, Claim(etag, source_etag, now))
        holder = read(storage, key)
        if holder is None:
            continue  # released between our PUT and GET: try to create it again
        if holder.source_etag == source_etag:
            return Decision(True, holder)
        if now - holder.claimed_at < takeover_after_s:
            return Decision(False, None, holder)
        etag = storage.put_if(key, body, if_match=holder.etag)
        if etag is not None:
            return Decision(True, Claim(etag, source_etag, now))
    holder = read(storage, key)
    return Decision(False, None, holder)


def move(storage: Storage, key: str, held: Claim, source_etag: str, now: float) -> Decision:
    """Re-point a claim we hold to a new source (ours vanished before we downloaded it).

    ``If-Match`` on our own claim: if someone took it over meanwhile, we lost.
    """
    etag = storage.put_if(key, _body(source_etag, now), if_match=held.etag)
    if etag is None:
        return Decision(False, None, read(storage, key))
    return Decision(True, Claim(etag, source_etag, now))
