"""services.create_upload: the open-upload cap holds under concurrent presigns (issue 12.4)."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from django.db import connection, connections

from async_image_upload import ImageUpload

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
