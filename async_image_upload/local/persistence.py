"""The embedded S3's objects kept on disk, so a restarted local stack serves its photos.

moto's server holds objects in memory while the demo's SQLite database outlives
it: without this, every photo marked ready before a restart pointed at objects
that were gone. The snapshot mirrors the bucket into a folder after each
processed event and on stop, and puts the objects back on start, before the
bucket's event notification exists, so nothing restored is processed again.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from pathlib import Path
from typing import Any

MANIFEST = "manifest.json"
#: The object attributes kept beside the bytes (what the Lambda sets on its outputs).
KEPT_HEADERS = ("ContentType", "CacheControl", "ContentDisposition", "Metadata")


def _file_name(key: str) -> str:
    """A flat, safe file name per key: keys may hold any character, paths may not."""
    return hashlib.sha256(key.encode()).hexdigest()


class BucketSnapshot:
    """One bucket mirrored in ``directory``: ``objects/<sha256 of key>`` and a manifest."""

    def __init__(self, directory: Path, client: Any, bucket: str) -> None:
        self.directory = Path(directory)
        self.client = client
        self.bucket = bucket
        self._lock = threading.Lock()

    @property
    def objects(self) -> Path:
        return self.directory / "objects"

    def manifest(self) -> dict[str, dict[str, Any]]:
        path = self.directory / MANIFEST
        if not path.exists():
            return {}
        return json.loads(path.read_text())

    def restore(self) -> int:
        """Put every saved object back; returns how many. Missing files are skipped."""
        restored = 0
        for key, entry in self.manifest().items():
            path = self.objects / entry["file"]
            if not path.is_file():
                continue
            headers = {name: entry[name] for name in KEPT_HEADERS if entry.get(name)}
            self.client.put_object(Bucket=self.bucket, Key=key, Body=path.read_bytes(), **headers)
            restored += 1
        return restored

    def save(self) -> int:
        """Mirror the bucket now: fetch new or changed objects (by ETag), drop deleted ones.

        Returns how many objects the snapshot holds. The manifest is replaced
        atomically, so a stack killed mid-save keeps the previous snapshot.
        """
        with self._lock:
            old = self.manifest()
            new: dict[str, dict[str, Any]] = {}
            self.objects.mkdir(parents=True, exist_ok=True)
            paginator = self.client.get_paginator("list_objects_v2")
            for page in paginator.paginate(Bucket=self.bucket):
                for item in page.get("Contents", []):
                    key, etag = item["Key"], item["ETag"]
                    if old.get(key, {}).get("ETag") == etag:
                        new[key] = old[key]
                        continue
                    got = self.client.get_object(Bucket=self.bucket, Key=key)
                    entry = {"file": _file_name(key), "ETag": etag}
                    entry.update({name: got[name] for name in KEPT_HEADERS if got.get(name)})
                    (self.objects / entry["file"]).write_bytes(got["Body"].read())
                    new[key] = entry
            partial = self.directory / (MANIFEST + ".tmp")
            partial.write_text(json.dumps(new, indent=1, sort_keys=True))
            os.replace(partial, self.directory / MANIFEST)
            for key in old.keys() - new.keys():
                (self.objects / old[key]["file"]).unlink(missing_ok=True)
            return len(new)


def bucket_keys(client: Any, bucket: str) -> set[str]:
    """Every key in the bucket (the local stack's buckets are small)."""
    keys: set[str] = set()
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        keys.update(item["Key"] for item in page.get("Contents", []))
    return keys
