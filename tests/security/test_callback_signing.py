"""Forged, stale, replayed and cross-upload signatures: async_image_upload/signing.py at work.

What "replayed" means here (docs/security.md): the callback is idempotent, so a
captured, genuine callback sent again *within* ``CALLBACK_MAX_AGE`` can only
repeat what already happened: 200 ``duplicate``, no second transition, no second
signal. The same bytes sent *after* the window are 401. A genuine callback cannot be
turned against another upload: the signature covers the body (so the upload id
cannot be swapped). That a correctly signed body naming another upload must carry
that upload's own keys is in test_api_callback.py (the body's validation).
"""

from __future__ import annotations

import json
import time
from types import SimpleNamespace
from typing import Any

import pytest

from async_image_upload import ImageUpload, Status, signing
from async_image_upload.conf import upload_settings
from async_image_upload.testing import callback_payload, signed_callback_headers

pytestmark = pytest.mark.django_db
URL = "/uploads/callback/"


def send(client: Any, body: bytes, headers: dict[str, str]) -> Any:
    return client.generic("POST", URL, body, content_type="application/json", headers=headers)


def captured(upload: ImageUpload, status: str = "ready", **kwargs: Any) -> tuple[bytes, dict]:
    """A genuine callback as an eavesdropper would have recorded it: bytes and headers."""
    body = json.dumps(callback_payload(upload, status, **kwargs)).encode()
    return body, signed_callback_headers(body)


def status_of(upload: ImageUpload) -> str:
    return ImageUpload.objects.get(pk=upload.pk).status


# -- forged ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "forge",
    [
        pytest.param(lambda ts, body: "v1=", id="empty-signature"),
        pytest.param(lambda ts, body: "v1=" + "0" * 64, id="zeros"),
        pytest.param(
            lambda ts, body: "v1=" + signing.compute_signature(secret(), ts, body).upper(),
            id="uppercase-hex",
        ),
        pytest.param(
            lambda ts, body: "v1=" + signing.compute_signature(secret(), ts, body)[:32],
            id="truncated",
        ),
        pytest.param(
            lambda ts, body: (
                "v1="
                + signing.compute_signature("tests-only-secret-key-not-for-production", ts, body)
            ),
            id="signed-with-raw-SECRET_KEY",
        ),
        pytest.param(
            lambda ts, body: "v1=" + signing.compute_signature(secret(), ts, b""),
            id="signature-of-empty-body",
        ),
        pytest.param(
            lambda ts, body: "v1=" + signing.compute_signature(secret(), "", body),
            id="signature-without-timestamp",
        ),
        pytest.param(
            lambda ts, body: ",".join(["v1=" + "f" * 64] * 200),
            id="many-wrong-candidates",
        ),
    ],
)
def test_forged_signatures_get_401_and_change_nothing(
    api_client: Any, make_upload: Any, signals: list, forge: Any
) -> None:
    upload = make_upload()
    body = json.dumps(callback_payload(upload)).encode()
    ts = str(int(time.time()))
    headers = {signing.TIMESTAMP_HEADER: ts, signing.SIGNATURE_HEADER: forge(ts, body)}
    response = send(api_client, body, headers)
    assert response.status_code == 401
    assert response.json()["detail"] == "Signature mismatch."
    assert status_of(upload) == Status.PENDING
    assert signals == []


def secret() -> str:
    return upload_settings.callback_secrets[0]


def test_redated_capture_gets_401(api_client: Any, make_upload: Any) -> None:
    """Moving a captured callback's timestamp forward breaks its signature."""
    upload = make_upload()
    body, headers = captured(upload)
    headers[signing.TIMESTAMP_HEADER] = str(int(headers[signing.TIMESTAMP_HEADER]) + 60)
    assert send(api_client, body, headers).status_code == 401
    assert status_of(upload) == Status.PENDING


def test_secret_of_another_deployment_gets_401(api_client: Any, make_upload: Any) -> None:
    upload = make_upload()
    body = json.dumps(callback_payload(upload)).encode()
    response = send(api_client, body, signing.sign("another-site's-callback-secret", body))
    assert response.status_code == 401


# -- stale and replayed ---------------------------------------------------------------


def test_stale_by_one_second_past_the_window_gets_401(api_client: Any, make_upload: Any) -> None:
    upload = make_upload()
    body = json.dumps(callback_payload(upload)).encode()
    max_age = int(upload_settings.CALLBACK_MAX_AGE)
    headers = signed_callback_headers(body, timestamp=int(time.time()) - max_age - 1)
    response = send(api_client, body, headers)
    assert response.status_code == 401
    assert response.json()["detail"] == "Stale signature."
    assert status_of(upload) == Status.PENDING


def test_replay_within_the_window_is_a_harmless_duplicate(
    api_client: Any, make_upload: Any, signals: list, django_capture_on_commit_callbacks: Any
) -> None:
    upload = make_upload()
    body, headers = captured(upload)
    with django_capture_on_commit_callbacks(execute=True):
        first = send(api_client, body, headers)
        replays = [send(api_client, body, headers) for _ in range(3)]
    assert first.json()["outcome"] == "applied"
    assert [r.status_code for r in replays] == [200, 200, 200]
    assert {r.json()["outcome"] for r in replays} == {"duplicate"}
    assert signals == [(str(upload.pk), "pending", "ready")]


def test_replayed_failure_cannot_undo_a_ready_upload(api_client: Any, make_upload: Any) -> None:
    """An old 'failed' capture replayed after the upload became ready is refused (409)."""
    upload = make_upload()
    stale_failure = captured(upload, "failed")
    assert send(api_client, *captured(upload)).status_code == 200
    response = send(api_client, *stale_failure)
    assert response.status_code == 409
    assert status_of(upload) == Status.READY


def test_replay_after_the_window_gets_401(
    api_client: Any, make_upload: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same captured bytes, replayed once the clock has moved past CALLBACK_MAX_AGE.

    The clock is the one thing replaced (signing's view of time), because waiting
    five real minutes would make the test useless; the request path is the real one.
    """
    upload = make_upload()
    body, headers = captured(upload)
    later = time.time() + int(upload_settings.CALLBACK_MAX_AGE) + 1
    monkeypatch.setattr(signing, "time", SimpleNamespace(time=lambda: later))
    response = send(api_client, body, headers)
    assert response.status_code == 401
    assert response.json()["detail"] == "Stale signature."
    assert status_of(upload) == Status.PENDING


# -- cross-upload -------------------------------------------------------------------


def test_swapping_the_upload_id_in_a_capture_breaks_the_signature(
    api_client: Any, make_upload: Any
) -> None:
    victim, target = make_upload(), make_upload()
    body, headers = captured(victim)
    swapped = body.replace(str(victim.pk).encode(), str(target.pk).encode())
    assert swapped != body
    assert send(api_client, swapped, headers).status_code == 401
    assert (status_of(victim), status_of(target)) == (Status.PENDING, Status.PENDING)


def test_transplanted_headers_do_not_sign_another_body(api_client: Any, make_upload: Any) -> None:
    first, second = make_upload(), make_upload()
    _body, headers = captured(first)
    other_body, _ = captured(second)
    assert send(api_client, other_body, headers).status_code == 401
    assert status_of(second) == Status.PENDING
