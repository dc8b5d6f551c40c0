"""Sizes in messages: binary units named as such, with the exact byte count."""

from __future__ import annotations

import pytest

from async_image_upload._sizes import describe_bytes

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("count", "text"),
    [
        (512, "512 bytes"),
        (2048, "2 KiB (2,048 bytes)"),
        (2 * 1024 * 1024, "2 MiB (2,097,152 bytes)"),
        (1_500_000, "1.4 MiB (1,500,000 bytes)"),
        (5 * 1024**3, "5 GiB (5,368,709,120 bytes)"),
    ],
)
def test_describe_bytes(count: int, text: str) -> None:
    assert describe_bytes(count) == text


def test_presign_size_error_names_the_limit_in_mib_and_bytes(alice_client) -> None:
    response = alice_client.post(
        "/uploads/",
        {"field": "testapp.Avatar.image", "content_type": "image/jpeg", "size": 3 * 1024 * 1024},
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["size"] == [
        "The file is larger than the limit of 2 MiB (2,097,152 bytes)."
    ]
