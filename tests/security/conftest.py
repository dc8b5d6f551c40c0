"""Fixtures for the hostile-input tests."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.fixture
def mallory_client(other_user: Any) -> Any:
    from rest_framework.test import APIClient

    client = APIClient()
    client.force_authenticate(other_user)
    return client
