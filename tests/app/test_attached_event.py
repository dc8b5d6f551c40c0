"""``attached_upload_finished``: one event per (row, field, upload), whichever order.

The mobile order (poll until ready, then attach), the web order (attach while
pending, then the callback), re-saves, replacing an upload, a failure, and the
race where the callback and the attaching save commit at the same time in two
threads (PostgreSQL; an in-memory SQLite database is not shared between threads).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from django.db import connection, connections, transaction

from async_image_upload import ImageUpload, Status, attached_upload_finished
from async_image_upload.testing import callback_payload, post_callback
from tests.testapp.models import Avatar, Photo

pytestmark = pytest.mark.django_db


@pytest.fixture
def events() -> Iterator[list[tuple[Any, ...]]]:
    received: list[tuple[Any, ...]] = []

    def receiver(sender, instance, field_name, upload, status, **kwargs) -> None:
        received.append((sender, instance.pk, field_name, str(upload.pk), status))

    attached_upload_finished.connect(receiver, weak=False)
    yield received
    attached_upload_finished.disconnect(receiver)


def test_attach_after_ready_sends_once_after_commit(
    api_client, make_upload, events, django_capture_on_commit_callbacks
) -> None:
    upload = make_upload()
    with django_capture_on_commit_callbacks(execute=True):
        post_callback(api_client, callback_payload(upload))
    assert events == []  # nothing points at it yet
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        photo = Photo.objects.create(title="shoe", image=upload.pk)
        assert events == []  # not before commit
    assert len(callbacks) == 1
    assert events == [(Photo, photo.pk, "image", str(upload.pk), "ready")]

    with django_capture_on_commit_callbacks(execute=True):
        photo.title = "red shoe"
        photo.save()
        Photo.objects.get(pk=photo.pk).save()
    assert len(events) == 1  # re-saves with the same upload: nothing new


def test_attached_while_pending_sends_when_the_callback_lands(
    api_client, make_upload, events, django_capture_on_commit_callbacks
) -> None:
    upload = make_upload()
    with django_capture_on_commit_callbacks(execute=True):
        photo = Photo.objects.create(image=upload.pk)
    assert events == []  # pending is not finished
    with django_capture_on_commit_callbacks(execute=True):
        post_callback(api_client, callback_payload(upload))
        post_callback(api_client, callback_payload(upload))  # a duplicate callback
    assert events == [(Photo, photo.pk, "image", str(upload.pk), "ready")]
    assert isinstance(events[0][1], int)


def test_failed_upload_sends_failed(
    api_client, make_upload, events, django_capture_on_commit_callbacks
) -> None:
    upload = make_upload()
    with django_capture_on_commit_callbacks(execute=True):
        photo = Photo.objects.create(image=upload.pk)
        post_callback(
            api_client,
            callback_payload(upload, status="failed"),
        )
    assert events == [(Photo, photo.pk, "image", str(upload.pk), "failed")]


def test_expired_is_not_finished(make_upload, events, django_capture_on_commit_callbacks) -> None:
    upload = make_upload()
    with django_capture_on_commit_callbacks(execute=True):
        Photo.objects.create(image=upload.pk)
        upload.transition(Status.EXPIRED)
    assert events == []


def test_each_row_field_and_upload_gets_its_own_event(
    make_upload, events, django_capture_on_commit_callbacks
) -> None:
    first, second = make_upload(), make_upload(field_id="testapp.Avatar.image")
    for upload in (first, second):
        upload.transition(Status.READY)
    with django_capture_on_commit_callbacks(execute=True):
        photo = Photo.objects.create(image=first.pk)
        avatar = Avatar.objects.create(image=second.pk)
    with django_capture_on_commit_callbacks(execute=True):
        photo.image = None
        photo.save()
        photo.image = first.pk  # detached and attached again: the same pair
        photo.save()
    assert sorted(events, key=str) == sorted(
        [
            (Photo, photo.pk, "image", str(first.pk), "ready"),
            (Avatar, avatar.pk, "image", str(second.pk), "ready"),
        ],
        key=str,
    )


def test_replaced_within_the_transaction_sends_only_for_what_is_committed(
    make_upload, events, django_capture_on_commit_callbacks
) -> None:
    first, second = make_upload(), make_upload()
    for upload in (first, second):
        upload.transition(Status.READY)
    with django_capture_on_commit_callbacks(execute=True):
        photo = Photo.objects.create(image=first.pk)
        photo.image = second.pk
        photo.save()
    assert events == [(Photo, photo.pk, "image", str(second.pk), "ready")]


def _race_once(upload: ImageUpload) -> int:
    """Send the callback in one thread while another commits a row holding the upload."""
    from django.test import Client

    payload = callback_payload(upload)
    barrier = threading.Barrier(2)
    photo_pks: list[int] = []

    def callback() -> None:
        try:
            barrier.wait()
            post_callback(Client(), payload)
        finally:
            connections.close_all()

    def attach() -> None:
        try:
            with transaction.atomic():
                photo_pks.append(Photo.objects.create(image=upload.pk).pk)
                barrier.wait()
        finally:
            connections.close_all()

    threads = [threading.Thread(target=callback), threading.Thread(target=attach)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return photo_pks[0]


@pytest.mark.django_db(transaction=True)
def test_callback_and_attaching_save_racing_send_exactly_once(make_upload, events) -> None:
    """The callback and the save commit at once, in two threads: one event, every round."""
    if connection.vendor == "sqlite":
        pytest.skip("An in-memory SQLite database is not shared between threads.")
    for _round in range(10):
        upload = make_upload()
        photo_pk = _race_once(upload)
        assert ImageUpload.objects.get(pk=upload.pk).status == Status.READY
        mine = [event for event in events if event[3] == str(upload.pk)]
        assert mine == [(Photo, photo_pk, "image", str(upload.pk), "ready")]
