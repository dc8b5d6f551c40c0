"""Applying the Lambda's callback: ``apply_callback`` in async_image_upload/services.py.

Sent through the endpoint, as the Lambda sends it: one transition and one signal,
a duplicate is 200 without a second signal (also when two race), a conflicting
status is 409, an unknown upload 404. Signatures are in test_callback_signing.py,
body validation in test_api_callback.py. Also ``create_upload``: the open-upload
cap holds under concurrent presigns.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from django.db import connection, connections

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


PRESIGN = {"filename": "a.jpg", "content_type": "image/jpeg", "size": 1000}


def _presign_concurrently(user: Any, requests: int, threads: int) -> list[int]:
    from rest_framework.test import APIClient

    barrier = threading.Barrier(threads)

    def presign(index: int) -> int:
        try:
            if index < threads:
                barrier.wait(timeout=30)  # the first wave starts together
            client = APIClient()
            client.force_authenticate(user)
            return client.post("/uploads/", PRESIGN, format="json").status_code
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=threads) as pool:
        return list(pool.map(presign, range(requests)))


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(("requests", "threads"), [(30, 12), (60, 40)])
def test_pending_cap_holds_under_concurrent_presigns(
    settings: Any, user: Any, requests: int, threads: int
) -> None:
    """The red team's run: cap 20, 30 presigns on 12 threads left 23 pending, 40 threads 27."""
    if connection.vendor == "sqlite":
        pytest.skip("An in-memory SQLite database is not shared between threads.")
    settings.ASYNC_IMAGE_UPLOAD = {
        **settings.ASYNC_IMAGE_UPLOAD,
        "MAX_PENDING_PER_USER": 20,
        "THROTTLE_RATE": "100000/minute",
    }
    codes = _presign_concurrently(user, requests, threads)
    assert sorted(set(codes)) == [201, 429]
    assert codes.count(201) == 20
    assert ImageUpload.objects.filter(owner=user, status="pending").count() == 20


@pytest.mark.django_db
def test_pending_cap_counts_only_the_owners_open_uploads(
    settings: Any, user: Any, other_user: Any, alice_client: Any
) -> None:
    settings.ASYNC_IMAGE_UPLOAD = {**settings.ASYNC_IMAGE_UPLOAD, "MAX_PENDING_PER_USER": 2}
    ImageUpload.objects.create(
        owner=other_user, content_type="image/jpeg", declared_bytes=1, field_id=""
    )
    assert [alice_client.post("/uploads/", PRESIGN, format="json").status_code for _ in "abc"] == [
        201,
        201,
        429,
    ]


@pytest.mark.django_db
def test_a_session_user_can_presign(client: Any, user: Any) -> None:
    """Session auth hands the view a SimpleLazyObject; the cap's lock must take it.

    The API tests force-authenticate a real user object, so only the browser test
    saw the 500 this once was.
    """
    client.force_login(user)
    response = client.post("/uploads/", PRESIGN, content_type="application/json")
    assert response.status_code == 201, response.content
    assert ImageUpload.objects.filter(owner=user, status="pending").count() == 1
