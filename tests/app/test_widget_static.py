"""The admin widget's scripts under ManifestStaticFilesStorage, after a real collectstatic.

Production sites serve hashed static names. A module's relative import is not
rewritten by Django (unless a project opts in), so widget.js must reach the
client through the URL the storage gives, or browsers would load an unhashed,
possibly stale or (WhiteNoise keeping only hashed files) missing uploader.js.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.core.management import call_command
from django.forms import modelform_factory

from tests.testapp.models import Photo

MANIFEST = "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"


@pytest.fixture
def hashed_static(settings, tmp_path: Path) -> Path:
    settings.STATIC_ROOT = str(tmp_path)
    settings.STORAGES = {**settings.STORAGES, "staticfiles": {"BACKEND": MANIFEST}}
    call_command("collectstatic", interactive=False, verbosity=0)
    return tmp_path


def test_widget_imports_the_hashed_client_not_a_relative_path(hashed_static: Path) -> None:
    html = str(modelform_factory(Photo, fields=["image"])()["image"])
    uploader_url = re.search(r'data-uploader="([^"]+)"', html)
    assert uploader_url, html
    name = uploader_url[1].removeprefix("/static/")
    assert re.fullmatch(r"async_image_upload/uploader\.[0-9a-f]{12}\.js", name), name
    assert (hashed_static / name).is_file()

    # The module the page loads imports nothing of ours by a relative path.
    (widget_js,) = hashed_static.glob("async_image_upload/widget.*.js")
    code = re.sub(r"/\*.*?\*/|^\s*//.*$", "", widget_js.read_text(), flags=re.S | re.M)
    assert "loadUploader" in code
    assert not re.search(r"""(import|from)\s*\(?\s*["']\./""", code)
