"""Applying the Lambda's callback: ``apply_callback`` in async_image_upload/services.py.

Sent through the endpoint, as the Lambda sends it: one transition and one signal,
a duplicate is 200 without a second signal (also when two race), a conflicting
status is 409, an unknown upload 404. Signatures are in test_callback_signing.py,
body validation in test_api_callback.py.
"""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from async_image_upload import ImageUpload, Status
from async_image_upload.testing import callback_payload, post_callback

pytestmark = pytest.mark.django_db


def test_good_callback_marks_ready_and_signals_once(
    api_client, make_upload, signals, django_capture_on_commit_callbacks
) -> None:
    upload = make_upload()
    with django_capture_on_commit_callbacks(execute=True):
        response = post_callback(api_client, callback_payload(upload))
    assert response.status_code == 200, response.content
    assert response.json() == {"id": str(upload.pk), "status": "ready", "outcome": "applied"}
    assert signals == [(str(upload.pk), "pending", "ready")]
    upload.refresh_from_db()
    assert upload.status == Status.READY and len(upload.variants) == 8


def test_duplicate_callback_is_200_without_second_signal(
    api_client, make_upload, signals, django_capture_on_commit_callbacks
) -> None:
    upload = make_upload()
    payload = callback_payload(upload)
    with django_capture_on_commit_callbacks(execute=True):
        post_callback(api_client, payload)
        again = post_callback(api_client, payload)
    assert again.status_code == 200
    assert again.json()["outcome"] == "duplicate"
    assert len(signals) == 1


def test_failed_after_ready_is_a_conflict(api_client, make_upload) -> None:
    upload = make_upload()
    post_callback(api_client, callback_payload(upload))
    response = post_callback(api_client, callback_payload(upload, "failed"))
    assert response.status_code == 409
    assert "cannot become failed" in response.json()["detail"]
    assert ImageUpload.objects.get(pk=upload.pk).status == Status.READY


def test_unknown_upload_is_404(api_client, make_upload) -> None:
    upload = make_upload()
    payload = callback_payload(upload)
    upload.delete()
    assert post_callback(api_client, payload).status_code == 404


# -- the race --------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_two_identical_callbacks_racing_make_one_transition(make_upload, signals) -> None:
    """Two threads, two connections, the same callback at once: one change, one signal."""
    if connection.vendor == "sqlite":
        pytest.skip(
            "An in-memory SQLite database is not shared between threads; runs on PostgreSQL."
        )
    from django.db import connections
    from django.test import Client

    upload = make_upload()
    payload = callback_payload(upload)
    barrier = threading.Barrier(2)
    results: list[int] = []

    def send() -> None:
        try:
            barrier.wait()
            results.append(post_callback(Client(), payload).json()["outcome"])
        finally:
            connections.close_all()

    threads = [threading.Thread(target=send) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(results) == ["applied", "duplicate"]
    assert signals == [(str(upload.pk), "pending", "ready")]
