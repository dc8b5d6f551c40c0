"""schemathesis against the OpenAPI schema the app serves: no 5xx, nothing undocumented.

The three endpoints run in-process through Django's real WSGI handler (the same
stack gunicorn calls), with a token-authenticated user for presign and status and
a valid HMAC signature on every generated callback body, so generated input gets
past authentication and reaches the serializers, the services and the database.
Nothing is mocked; presigning needs no S3 server because boto3 only signs locally.
"""

from __future__ import annotations

import json
import os
from typing import Any

import pytest

try:
    import schemathesis
except ImportError:  # not in the test extra yet: skip locally, never in CI
    if os.environ.get("CI") == "true":
        raise
    pytest.skip("schemathesis is not installed", allow_module_level=True)
from django.core.handlers.wsgi import WSGIHandler
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode

from async_image_upload import ImageUpload, Status
from async_image_upload.conf import upload_settings
from async_image_upload.testing import callback_payload, signed_callback_headers

# The real WSGI handler closes the database connection after each request, which
# would end a test transaction on PostgreSQL: these tests commit and flush instead.
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.urls("tests.security.urls")]

#: Bounded so the whole module stays well under a minute on two cores.
MAX_EXAMPLES = 40
FUZZ = settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    database=None,  # no example database on disk: every run is reproducible from its seed
    # The fixtures (user, token, uploads) are deliberately shared by all examples.
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
MODES = [GenerationMode.POSITIVE, GenerationMode.NEGATIVE]


@pytest.fixture
def loose_limits(settings: Any) -> None:
    """Throttles and the pending cap would answer most examples with 429 and hide
    the deeper code paths; they have tests of their own."""
    settings.ASYNC_IMAGE_UPLOAD = {
        **settings.ASYNC_IMAGE_UPLOAD,
        "THROTTLE_RATE": "100000/minute",
        "STATUS_THROTTLE_RATE": "100000/minute",
        "MAX_PENDING_PER_USER": 100000,
    }


@pytest.fixture
def api_schema(loose_limits: None, user: Any) -> Any:
    """The schema as ``GET /schema/`` serves it, bound to the WSGI application, with
    alice's token as its authentication.

    Registered as schemathesis auth (not as a plain header) so that its
    ``ignored_auth`` check knows the credentials are real and probes each
    successful call again without them and with invalid ones, expecting 401/403.
    """
    from rest_framework.authtoken.models import Token

    key = Token.objects.create(user=user).key
    schema = schemathesis.openapi.from_wsgi("/schema/", WSGIHandler())

    @schema.auth(refresh_interval=None)
    class AliceToken:
        def get(self, case: Any, context: Any) -> str:
            return key

        def set(self, case: Any, data: str, context: Any) -> None:
            case.headers = {**(case.headers or {}), "Authorization": f"Token {data}"}

    return schema


#: Checks that apply to this API. ``positive_data_acceptance`` does not: a
#: schema-valid content type or size can still be outside a field's configured
#: allow-list or cap (or the field may not exist), and 400 is the right answer.
def checks(*, probe_auth: bool = True) -> list[Any]:
    from schemathesis.checks import not_a_server_error
    from schemathesis.specs.openapi.checks import (
        content_type_conformance,
        ignored_auth,
        negative_data_rejection,
        response_headers_conformance,
        response_schema_conformance,
        status_code_conformance,
    )

    return [
        not_a_server_error,
        status_code_conformance,
        content_type_conformance,
        response_headers_conformance,
        response_schema_conformance,
        negative_data_rejection,
        *([ignored_auth] if probe_auth else []),
    ]


def test_schema_documents_every_status_the_endpoints_answer(api_schema: Any) -> None:
    """The error answers in docs/api.md are part of the schema, not surprises."""
    documented = {
        (operation.path, operation.method.upper()): set(operation.responses.status_codes)
        for operation in (result.ok() for result in api_schema.get_all_operations())
    }
    assert {"201", "400", "401", "403", "415", "429"} <= documented[("/uploads/", "POST")]
    assert {"200", "401", "403", "404", "429"} <= documented[("/uploads/{id}/", "GET")]
    assert {"200", "400", "401", "404", "409", "413"} <= documented[("/uploads/callback/", "POST")]


@pytest.mark.parametrize("mode", MODES, ids=str)
def test_presign(api_schema: Any, mode: GenerationMode) -> None:
    strategy = api_schema["/uploads/"]["POST"].as_strategy(
        generation_mode=mode, auth_storage=api_schema.auth
    )

    @FUZZ
    @given(case=strategy)
    def run(case: Any) -> None:
        response = case.call()
        case.validate_response(response, checks=checks())
        assert response.status_code < 500
        if response.status_code == 201:
            # Whatever the client sent, the key is the server's.
            body = response.json()
            assert body["fields"]["key"] == f"{upload_settings.TEMP_PREFIX}{body['id']}"

    run()


@pytest.mark.parametrize("mode", MODES, ids=str)
def test_status(api_schema: Any, make_upload: Any, mode: GenerationMode) -> None:
    own_ids = [str(make_upload().pk) for _ in range(2)]
    operation = api_schema["/uploads/{id}/"]["GET"]

    @FUZZ
    @given(
        case=operation.as_strategy(generation_mode=mode, auth_storage=api_schema.auth),
        aim=st.sampled_from([None, *own_ids]),
    )
    def run(case: Any, aim: str | None) -> None:
        if aim is not None and mode is GenerationMode.POSITIVE:
            # Generated ids almost never exist; aim some at real uploads.
            case.path_parameters = {"id": aim}
        response = case.call()
        case.validate_response(response, checks=checks())
        assert response.status_code in (200, 404)

    run()


def user_token(user: Any) -> str:
    from rest_framework.authtoken.models import Token

    return Token.objects.get(user=user).key


@pytest.mark.parametrize("state", ["pending", "ready", "failed", "expired"])
def test_status_in_every_state_matches_the_schema(
    api_schema: Any, make_upload: Any, client: Any, state: str
) -> None:
    upload = make_upload()
    if state in ("ready", "failed"):
        body = json.dumps(callback_payload(upload, state)).encode()
        client.generic(
            "POST",
            "/uploads/callback/",
            body,
            content_type="application/json",
            headers=signed_callback_headers(body),
        )
    elif state == "expired":
        upload.transition(Status.EXPIRED)
    assert ImageUpload.objects.get(pk=upload.pk).status == state
    case = api_schema["/uploads/{id}/"]["GET"].Case(path_parameters={"id": str(upload.pk)})
    case.headers = {"Authorization": f"Token {user_token(upload.owner)}"}
    response = case.call()
    assert response.status_code == 200
    assert response.json()["status"] == state
    # A hand-set header looks "generated" to schemathesis; the fuzz tests probe auth.
    case.validate_response(response, checks=checks(probe_auth=False))


@pytest.mark.parametrize("mode", MODES, ids=str)
def test_signed_callbacks(api_schema: Any, make_upload: Any, mode: GenerationMode) -> None:
    targets = [make_upload() for _ in range(3)]
    operation = api_schema["/uploads/callback/"]["POST"]

    @FUZZ
    @given(
        case=operation.as_strategy(generation_mode=mode, media_type="application/json"),
        target=st.sampled_from([None, *targets]),
    )
    def run(case: Any, target: Any) -> None:
        payload = case.body
        if target is not None and mode is GenerationMode.POSITIVE and isinstance(payload, dict):
            # Point the generated facts at a real upload's own keys, so they get past
            # the key checks and into the state machine and the database. (Not in
            # negative mode: it could overwrite the very value made invalid.)
            upload_id = str(target.pk)
            payload["upload_id"] = upload_id
            if isinstance(payload.get("source"), dict):
                payload["source"]["key"] = f"{upload_settings.TEMP_PREFIX}{upload_id}"
            for index, variant in enumerate(payload.get("variants") or []):
                if isinstance(variant, dict):
                    variant["key"] = f"{upload_settings.IMAGE_PREFIX}{upload_id}/v{index}.jpg"
        if isinstance(payload, bytes):  # negative mode may send raw, non-JSON bytes
            raw = payload
        else:
            raw = json.dumps(payload, default=lambda value: value.decode("latin-1")).encode()
        headers = signed_callback_headers(raw)
        response = case.call(headers=headers, data=raw)
        case.validate_response(response, headers=headers, checks=checks())
        assert response.status_code in (200, 400, 404, 409)

    run()
