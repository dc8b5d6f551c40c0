from __future__ import annotations

import pytest

from async_image_upload import ImageUpload, InvalidTransition, Status, upload_status_changed

pytestmark = pytest.mark.django_db


@pytest.fixture
def received():
    events = []

    def receiver(sender, upload, previous_status, status, **kwargs):
        events.append((sender, upload.pk, previous_status, status))

    upload_status_changed.connect(receiver)
    yield events
    upload_status_changed.disconnect(receiver)


def test_new_upload_is_pending_with_expiry(make_upload) -> None:
    upload = make_upload()
    assert upload.status == Status.PENDING
    assert upload.expires_at > upload.created_at
    assert upload.temp_key == f"temp/{upload.pk}"
    assert upload.image_prefix == f"image/{upload.pk}/"


def test_transition_records_facts_and_signals_once_after_commit(
    make_upload, received, django_capture_on_commit_callbacks
) -> None:
    upload = make_upload()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        assert upload.transition(
            Status.READY, source_width=4000, placeholder="data:image/webp;base64,x"
        )
        assert received == []  # not before commit
    assert len(callbacks) == 1
    assert received == [(ImageUpload, upload.pk, "pending", "ready")]
    stored = ImageUpload.objects.get(pk=upload.pk)
    assert stored.status == Status.READY
    assert stored.source_width == 4000
    assert stored.completed_at is not None


def test_duplicate_transition_is_a_no_op(
    make_upload, received, django_capture_on_commit_callbacks
) -> None:
    upload = make_upload()
    with django_capture_on_commit_callbacks(execute=True):
        assert upload.transition(Status.READY) is True
    stale_copy = ImageUpload.objects.get(pk=upload.pk)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        assert stale_copy.transition(Status.READY) is False
    assert callbacks == []
    assert len(received) == 1


@pytest.mark.parametrize(
    ("start", "target"),
    [
        (Status.READY, Status.FAILED),
        (Status.FAILED, Status.READY),
        (Status.READY, Status.PENDING),
        (Status.READY, Status.EXPIRED),
        (Status.PENDING, Status.PENDING + "x"),
    ],
)
def test_illegal_transitions_are_refused(make_upload, start, target) -> None:
    upload = make_upload()
    ImageUpload.objects.filter(pk=upload.pk).update(status=start)
    with pytest.raises((InvalidTransition, ValueError)):
        upload.transition(target)
    assert ImageUpload.objects.get(pk=upload.pk).status == start


def test_a_stale_instance_cannot_overwrite_a_newer_status(make_upload) -> None:
    upload = make_upload()
    ImageUpload.objects.get(pk=upload.pk).transition(Status.FAILED, error_code="corrupt")
    with pytest.raises(InvalidTransition, match="is failed; it cannot become ready"):
        upload.transition(Status.READY)  # this instance still thinks it is pending


def test_expired_upload_can_still_complete(make_upload) -> None:
    upload = make_upload()
    assert upload.transition(Status.EXPIRED)
    assert upload.transition(Status.READY)
    assert ImageUpload.objects.get(pk=upload.pk).status == Status.READY


def test_unknown_facts_are_refused(make_upload) -> None:
    with pytest.raises(TypeError, match="owner"):
        make_upload().transition(Status.READY, owner=None)


def test_deleting_an_upload_clears_the_field_pointing_at_it(make_upload) -> None:
    from tests.testapp.models import Photo

    upload = make_upload()
    photo = Photo.objects.create(image=upload)
    upload.delete()
    photo.refresh_from_db()
    assert photo.image is None
