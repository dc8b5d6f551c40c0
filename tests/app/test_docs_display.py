"""docs/display.md's template, view and serializer, run as printed against the test app.

The blocks are taken from the doc, so when the doc changes this runs the new
one. ``myapp`` is the doc's name for the user's app: here its ``models`` is
the test app's.
"""

from __future__ import annotations

import re
import sys
import types
from pathlib import Path

import pytest
from django.template import Context, Template

from async_image_upload import prefetch_uploads
from tests.app.test_display import Tags, ready
from tests.testapp import models as testapp_models
from tests.testapp.models import Photo

DOC = Path(__file__).resolve().parents[2] / "docs" / "display.md"

pytestmark = pytest.mark.django_db


def block(language: str, marker: str) -> str:
    blocks = re.findall(rf"```{language}\n(.*?)```", DOC.read_text(), flags=re.S)
    return next(found for found in blocks if marker in found)


def run_python(marker: str, monkeypatch: pytest.MonkeyPatch) -> dict[str, object]:
    monkeypatch.setitem(sys.modules, "myapp", types.ModuleType("myapp"))
    monkeypatch.setitem(sys.modules, "myapp.models", testapp_models)
    namespace: dict[str, object] = {"__name__": "myapp.docs_block"}
    exec(compile(block("python", marker), str(DOC), "exec"), namespace)  # noqa: S102
    return namespace


@pytest.fixture
def photos(make_upload) -> list[Photo]:
    Photo.objects.create(title="Beach", image=ready(make_upload()))
    Photo.objects.create(title="Still uploading", image=make_upload())
    photos = list(Photo.objects.order_by("pk"))
    prefetch_uploads(photos, "image")
    return photos


def test_the_docs_template_renders_the_documented_img(photos) -> None:
    html = Template(block("django", "photos/list.html")).render(Context({"photos": photos}))
    tags = Tags(html).tags
    script = next(attrs for tag, attrs in tags if tag == "script")
    assert script["src"].endswith("async_image_upload/async_img.js") and "defer" in script
    (img,) = [attrs for tag, attrs in tags if tag == "img"]
    (pending,) = [attrs for tag, attrs in tags if tag == "span"]
    assert img["alt"] == "Beach" and img["class"] == "thumb"
    assert img["sizes"] == "(max-width: 600px) 100vw, 400px"
    assert [e.rsplit(" ", 1)[1] for e in img["srcset"].split(", ")] == [
        "50w",
        "100w",
        "400w",
        "4000w",
    ]
    # The doc's sample output shows exactly the attributes the tag writes.
    sample = Tags(block("html", "data-async-img-placeholder").replace("\n", " ")).tags[0][1]
    assert set(sample) == set(img)
    assert pending["class"] == "async-img-pending thumb" and pending["data-status"] == "pending"
    assert pending["aria-label"] == "Still uploading" and pending["role"] == "img"


def test_the_docs_view_helpers(photos, monkeypatch) -> None:
    namespace = run_python("myapp/views.py", monkeypatch)
    beach, pending = photos
    card = namespace["photo_card"](beach)
    tag = Template(
        '{% load async_images %}{% async_img photo.image sizes="400px" alt=photo.title %}'
    )
    assert card == tag.render(Context({"photo": beach}))  # what its docstring says
    facts = namespace["photo_facts"](beach)
    assert "/400x400.jpg" in facts["src"] and (facts["width"], facts["height"]) == (400, 200)
    assert namespace["photo_facts"](pending)["src"] is None
    assert namespace["photo_facts"](Photo(title="no image")) is None


def test_the_docs_serializer(photos, monkeypatch) -> None:
    namespace = run_python("myapp/serializers.py", monkeypatch)
    data = namespace["PhotoSerializer"](photos[0]).data["display"]
    documented = re.findall(r'"(\w+)":', block("json", '"sizes"').split('"variants"')[0])
    assert set(data) == {*documented, "variants", "error"}
    assert data["sizes"] == "(max-width: 600px) 100vw, 400px"
    assert (data["width"], data["height"]) == (400, 200)
    assert data["placeholder"].startswith("data:image/webp;base64,")
