"""Fixtures shared by the Django-side tests (the Lambda's tests have their own)."""

from __future__ import annotations

from typing import Any

import pytest

#: Fake credentials for every test, so nothing can reach real AWS with a
#: developer's own keys, and signing works without any configured profile.
FAKE_AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_CONFIG_FILE": "/dev/null",
    "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
}


@pytest.fixture(autouse=True, scope="session")
def _fake_aws_credentials() -> Any:
    mp = pytest.MonkeyPatch()
    for name, value in FAKE_AWS_ENV.items():
        mp.setenv(name, value)
    yield
    mp.undo()


@pytest.fixture(autouse=True)
def _fresh_throttle_cache() -> None:
    """Throttle counters live in the cache; no test should inherit another's.

    The Lambda's tests must run without Django (its runtime has none), so this
    does nothing where Django is not installed or not configured.
    """
    try:
        from django.conf import settings
        from django.core.cache import cache
    except ImportError:
        return
    if settings.configured:
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
