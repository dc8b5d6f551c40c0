"""A failing ``smoke_upload_finished`` receiver fails ``--exit-after-smoke``.

The demo's gallery shows the smoke upload through this signal; a receiver that
raises must surface (CI's demo tier would otherwise pass with an empty gallery),
while the other receivers still run (``send_robust``).
"""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.core.management.base import OutputWrapper

from async_image_upload.local.signals import smoke_upload_finished
from async_image_upload.management.commands.run_local_stack import Command, smoke_failed

pytestmark = pytest.mark.django_db


def test_a_raising_receiver_is_reported_and_the_others_still_run(make_upload: Any) -> None:
    upload = make_upload()
    seen: list[str] = []

    def broken(**kwargs: Any) -> None:
        raise RuntimeError("no Photo model here")

    def working(*, upload: Any, status: str, **kwargs: Any) -> None:
        seen.append(f"{upload.pk}:{status}")

    smoke_upload_finished.connect(broken, dispatch_uid="test-broken")
    smoke_upload_finished.connect(working, dispatch_uid="test-working")
    try:
        command = Command(stdout=io.StringIO(), stderr=io.StringIO())
        result: dict[str, Any] = {"status": "ready"}
        command.announce_smoke(str(upload.pk), result)
    finally:
        smoke_upload_finished.disconnect(dispatch_uid="test-broken")
        smoke_upload_finished.disconnect(dispatch_uid="test-working")

    assert seen == [f"{upload.pk}:{upload.status}"]
    assert "RuntimeError('no Photo model here')" in result["hook_error"]
    stderr = command.stderr
    assert isinstance(stderr, OutputWrapper)
    assert "smoke_upload_finished receiver failed" in stderr._out.getvalue()
    assert smoke_failed(result)  # so --exit-after-smoke raises CommandError


@pytest.mark.parametrize(
    ("result", "failed"),
    [
        ({"status": "ready"}, False),
        ({"status": "failed"}, True),
        ({}, True),
        ({"status": "ready", "hook_error": "<receiver>: RuntimeError()"}, True),
    ],
)
def test_exit_after_smoke_needs_ready_and_every_receiver(result: dict, failed: bool) -> None:
    assert smoke_failed(result) is failed
