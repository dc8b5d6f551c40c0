"""Fixtures shared by the Django-side tests (the Lambda's tests have their own)."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.fixture(autouse=True)
def _fresh_throttle_cache() -> None:
    """Throttle counters live in the cache; no test should inherit another's."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture
def user(django_user_model: Any) -> Any:
    return django_user_model.objects.create_user("alice", password="pw-alice")


@pytest.fixture
def other_user(django_user_model: Any) -> Any:
    return django_user_model.objects.create_user("mallory", password="pw-mallory")


@pytest.fixture
def api_client() -> Any:
    from rest_framework.test import APIClient

    return APIClient()


@pytest.fixture
def alice_client(user: Any) -> Any:
    from rest_framework.test import APIClient

    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def make_upload(user: Any) -> Any:
    """Create a pending upload row directly (no S3), for tests past the presign step."""
    from async_image_upload.models import ImageUpload

    def make(**overrides: Any) -> ImageUpload:
        values: dict[str, Any] = {
            "owner": user,
            "field_id": "testapp.Photo.image",
            "content_type": "image/jpeg",
            "declared_bytes": 123_456,
            "requested_variants": ["50x50", "100x100", "400x400", "original"],
            "blur_radius": 20,
            "original_filename": "IMG_0001.jpg",
        }
        values.update(overrides)
        return ImageUpload.objects.create(**values)

    return make
