"""A headless client doing exactly what a mobile app does: presign, POST to S3, poll.

Standard library only (urllib), so it runs against any deployment with nothing
but an API base URL and a token.
"""

from __future__ import annotations

import json
import mimetypes
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

FINAL = {"ready", "failed", "expired"}


class ClientError(Exception):
    """A step failed; the message says which and what the server answered."""


@dataclass
class UploadResult:
    path: str
    upload_id: str | None = None
    status: str = "error"
    timings_ms: dict[str, float] = field(default_factory=dict)
    variants: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None


def _request(
    method: str,
    url: str,
    *,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
    timeout: float = 30,
) -> tuple[int, bytes]:
    if not url.startswith(("http://", "https://")):
        raise ClientError(f"Refusing a non-HTTP URL: {url!r}")
    request = urllib.request.Request(url, data=body, method=method, headers=headers or {})  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()
    except urllib.error.URLError as exc:
        raise ClientError(f"{method} {url}: {exc.reason}") from exc


def multipart(
    fields: dict[str, str], file_name: str, file_bytes: bytes, content_type: str
) -> tuple[bytes, str]:
    """Encode an S3 POST form: every policy field first, the file last (S3 requires it)."""
    boundary = f"----aiu{uuid.uuid4().hex}"
    parts: list[bytes] = []
    for name, value in fields.items():
        disposition = f'Content-Disposition: form-data; name="{name}"'
        parts.append(f"--{boundary}\r\n{disposition}\r\n\r\n{value}\r\n".encode())
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{file_name}"\r\n'
        f"Content-Type: {content_type}\r\n\r\n".encode()
    )
    parts.append(file_bytes)
    parts.append(f"\r\n--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def guess_content_type(path: Path) -> str:
    return mimetypes.guess_type(path.name)[0] or "application/octet-stream"


class UploadClient:
    """Talks to the app's API at ``api_url`` (the prefix the app's urls are mounted at)."""

    def __init__(
        self,
        api_url: str,
        token: str | None = None,
        *,
        field_id: str = "",
        poll_timeout_s: float = 120,
    ) -> None:
        self.api_url = api_url.rstrip("/") + "/"
        self.token = token
        self.field_id = field_id
        self.poll_timeout_s = poll_timeout_s

    def _headers(self) -> dict[str, str]:
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if self.token:
            headers["Authorization"] = f"Token {self.token}"
        return headers

    def upload(self, path: Path, on_status: Callable[[str], None] | None = None) -> UploadResult:
        result = UploadResult(path=str(path))
        started = time.perf_counter()
        try:
            data = path.read_bytes()
            content_type = guess_content_type(path)
            body = json.dumps(
                {
                    "field": self.field_id,
                    "filename": path.name,
                    "content_type": content_type,
                    "size": len(data),
                }
            ).encode()
            t0 = time.perf_counter()
            status, raw = _request(
                "POST", self.api_url + "uploads/", body=body, headers=self._headers()
            )
            result.timings_ms["presign"] = (time.perf_counter() - t0) * 1000
            if status != 201:
                raise ClientError(f"presign refused ({status}): {raw.decode(errors='replace')}")
            presign = json.loads(raw)
            result.upload_id = presign["id"]
            form, form_type = multipart(presign["fields"], path.name, data, content_type)
            t0 = time.perf_counter()
            status, raw = _request(
                "POST", presign["url"], body=form, headers={"Content-Type": form_type}, timeout=120
            )
            result.timings_ms["upload"] = (time.perf_counter() - t0) * 1000
            if status not in (200, 201, 204):
                raise ClientError(
                    f"S3 refused the upload ({status}): {raw.decode(errors='replace')}"
                )
            t0 = time.perf_counter()
            final = self.poll(presign["status_url"], on_status)
            result.timings_ms["processing"] = (time.perf_counter() - t0) * 1000
            result.status = final["status"]
            result.variants = final.get("variants") or []
            if final.get("error"):
                result.error = f"{final['error']['code']}: {final['error']['message']}"
        except (ClientError, OSError, ValueError, KeyError) as exc:
            result.error = str(exc)
        result.timings_ms["total"] = (time.perf_counter() - started) * 1000
        return result

    def poll(
        self, status_url: str, on_status: Callable[[str], None] | None = None
    ) -> dict[str, Any]:
        """Poll with backoff (50 ms doubling to 1 s) until a final status or the timeout."""
        delay, deadline = 0.05, time.monotonic() + self.poll_timeout_s
        while True:
            status, raw = _request("GET", status_url, headers=self._headers())
            if status != 200:
                raise ClientError(f"status check failed ({status}): {raw.decode(errors='replace')}")
            data = json.loads(raw)
            if on_status:
                on_status(data["status"])
            if data["status"] in FINAL:
                return data
            if time.monotonic() > deadline:
                raise ClientError(f"still {data['status']} after {self.poll_timeout_s:.0f} s")
            time.sleep(delay)
            delay = min(delay * 2, 1.0)
