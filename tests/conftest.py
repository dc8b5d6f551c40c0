"""Fixtures shared by every tier; S3 and AWS fixtures come from the shipped plugin.

The plugin (``async_image_upload.testing.pytest_plugin``) is loaded through its
entry point, as in a downstream project: ``s3_server``, ``aws_client``,
``upload_bucket`` and ``fake_aws_credentials`` live there.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest


@pytest.fixture(autouse=True, scope="session")
def _fake_aws_credentials(fake_aws_credentials: dict[str, str]) -> None:
    """The plugin's fake AWS keys for every test, not only those using its S3 server.

    Nothing can reach real AWS with a developer's own keys, and signing works
    without any configured profile.
    """


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
def signals() -> Iterator[list[tuple[str, str, str]]]:
    """Every ``upload_status_changed`` sent during the test, as (upload id, previous, new)."""
    from async_image_upload import upload_status_changed

    received: list[tuple[str, str, str]] = []

    def receiver(upload: Any, previous_status: str, status: str, **kwargs: Any) -> None:
        received.append((str(upload.pk), previous_status, status))

    upload_status_changed.connect(receiver, weak=False)
    yield received
    upload_status_changed.disconnect(receiver)


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


#: Test folders and modules whose session- or module-scoped fixtures start something heavy
#: (LocalStack, a local stack with Chromium, generated photos and reports). Under
#: pytest-xdist (``make test`` runs ``-n auto --dist loadgroup``) each group stays on one
#: worker, so that set-up happens once, not once per worker; every other test is spread.
HEAVY_FIXTURE_GROUPS = {
    "tests/strict_s3/": "localstack",
    "tests/browser/": "browser",
    "tests/tuning/": "tuning-photos",
    "tests/lambda_function/test_memory_budget.py": "memory-inputs",
}


@pytest.hookimpl(tryfirst=True)  # before xdist's own hook reads the groups
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Put each heavy-fixture test in its xdist group (a no-op without ``--dist loadgroup``)."""
    root = config.rootpath
    for item in items:
        path = item.path.relative_to(root).as_posix()
        for prefix, group in HEAVY_FIXTURE_GROUPS.items():
            if path.startswith(prefix):
                item.add_marker(pytest.mark.xdist_group(group))
                break
