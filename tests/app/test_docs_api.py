"""docs/api.md's "Rules of your own" block, run as printed.

The block is taken from the doc, so when the doc changes this runs the new one.
Its rule reads ``request.user.profile.suspended``, a profile the doc assumes
the project has: the test gives the user that attribute, nothing else. The
other blocks users copy from api.md (the viewset, URLs, admin and form) run in
a fresh project in the adoption tier (tests/adoption/).
"""

from __future__ import annotations

import sys
import types
from types import SimpleNamespace

import pytest
from django.urls import resolve
from rest_framework.test import APIRequestFactory, force_authenticate

from async_image_upload import ImageUpload
from tests.adoption import _docs

pytestmark = pytest.mark.django_db


@pytest.fixture
def docs_module(monkeypatch: pytest.MonkeyPatch) -> types.ModuleType:
    """The block executed as a module (it is a urls.py too: its ``urlpatterns`` route first)."""
    block = _docs.block_containing("api.md", "class OurPresignRequest")
    module = types.ModuleType("docs_api_rules")
    exec(compile(block.code, "docs/api.md", "exec"), module.__dict__)  # noqa: S102
    monkeypatch.setitem(sys.modules, module.__name__, module)
    return module


def test_the_docs_own_rule_refuses_a_suspended_account_and_keeps_the_apps_rules(
    docs_module: types.ModuleType, user, upload_bucket
) -> None:
    # The doc's urlpatterns send the upload path to its view, ahead of the app's URLs.
    match = resolve("/api/uploads/", urlconf=docs_module.__name__)
    assert match.func.view_class is docs_module.OurUploadCreateView
    view = docs_module.OurUploadCreateView.as_view()

    def post(suspended: bool, **overrides: object):
        user.profile = SimpleNamespace(suspended=suspended)
        body = {"filename": "IMG_1.jpg", "content_type": "image/jpeg", "size": 50_000}
        request = APIRequestFactory().post("/api/uploads/", {**body, **overrides}, format="json")
        force_authenticate(request, user=user)
        return view(request)

    refused = post(suspended=True)
    assert refused.status_code == 400
    assert refused.data == {"non_field_errors": ["Uploads are paused for this account."]}
    too_big = post(suspended=False, size=10**12)  # the app's own rules run first
    assert too_big.status_code == 400 and "size" in too_big.data
    assert not ImageUpload.objects.exists()

    accepted = post(suspended=False)
    assert accepted.status_code == 201, accepted.data
    assert ImageUpload.objects.get(pk=accepted.data["id"]).owner == user
