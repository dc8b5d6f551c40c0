"""docs/signals.md's receiver, run as printed, against the test app's ``Photo``.

The block is taken from the doc, so when the doc changes this runs the new one.
``myapp`` is the doc's name for the user's app: here its ``models`` is the test
app's and ``notifications.send_push`` records what it was asked to send.
"""

from __future__ import annotations

import re
import sys
import types
from pathlib import Path

import pytest

from async_image_upload import Status, attached_upload_finished
from tests.testapp import models as testapp_models
from tests.testapp.models import Photo

DOC = Path(__file__).resolve().parents[2] / "docs" / "signals.md"

pytestmark = pytest.mark.django_db


def receiver_block() -> str:
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(), flags=re.S)
    return next(block for block in blocks if "myapp/receivers.py" in block)


def test_the_docs_receiver_notifies_once_when_a_ready_photo_is_attached(
    monkeypatch, make_upload, user, django_capture_on_commit_callbacks
) -> None:
    sent: list[tuple[object, str]] = []
    myapp = types.ModuleType("myapp")
    notifications = types.ModuleType("myapp.notifications")
    notifications.send_push = lambda to, text: sent.append((to, text))  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "myapp", myapp)
    monkeypatch.setitem(sys.modules, "myapp.models", testapp_models)
    monkeypatch.setitem(sys.modules, "myapp.notifications", notifications)

    namespace: dict[str, object] = {}
    exec(compile(receiver_block(), str(DOC), "exec"), namespace)  # noqa: S102
    try:
        upload = make_upload()
        upload.transition(Status.READY)  # the mobile order: ready first
        with django_capture_on_commit_callbacks(execute=True):
            photo = Photo.objects.create(title="Red shoe", owner=user, image=upload.pk)
        with django_capture_on_commit_callbacks(execute=True):
            photo.save()
    finally:
        attached_upload_finished.disconnect(dispatch_uid="myapp.photo_ready", sender=Photo)
    assert sent == [(user, "Red shoe is ready")]
