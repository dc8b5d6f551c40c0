"""Fixtures for the hostile-input tests."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from async_image_upload import upload_status_changed


@pytest.fixture
def signals() -> Iterator[list[tuple[str, str, str]]]:
    """Every ``upload_status_changed`` sent during the test, as (id, previous, new)."""
    received: list[tuple[str, str, str]] = []

    def receiver(upload: Any, previous_status: str, status: str, **kwargs: Any) -> None:
        received.append((str(upload.pk), previous_status, status))

    upload_status_changed.connect(receiver)
    yield received
    upload_status_changed.disconnect(receiver)


@pytest.fixture
def mallory_client(other_user: Any) -> Any:
    from rest_framework.test import APIClient

    client = APIClient()
    client.force_authenticate(other_user)
    return client
