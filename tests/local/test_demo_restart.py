"""The demo across a restart, as a user meets it: smoke photo in the gallery, images still load.

Two real runs of ``manage.py run_local_stack`` on one SQLite file: the first
uploads the smoke photo and stops; the second starts on the same database and
serves the gallery, the photo's images (restored from ``<database>.s3``) and
the API docs page with its own Swagger UI files.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path
from urllib.parse import urljoin

import pytest
import requests
from PIL import Image

from tests.local.test_local_stack import EXAMPLE, free_port, run_stack

STACK = [sys.executable, "manage.py", "run_local_stack"]


@dataclass
class Demo:
    origin: str
    token: str
    output: str
    database: Path


def _stack_env(database: Path) -> dict[str, str]:
    env = {**os.environ, "EXAMPLE_DB": str(database), "PYTHONUNBUFFERED": "1"}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    return env


@pytest.fixture(scope="module")
def restarted_demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    workdir = tmp_path_factory.mktemp("demo")
    database = workdir / "db.sqlite3"
    first = run_stack(
        workdir,
        "--port",
        str(free_port()),
        "--s3-port",
        str(free_port()),
        "--smoke",
        "--exit-after-smoke",
    )
    assert first.returncode == 0, first.stdout + first.stderr
    assert (workdir / "db.sqlite3.s3" / "manifest.json").exists()

    port = free_port()
    log = (workdir / "second.log").open("w+")
    process = subprocess.Popen(
        [*STACK, "--demo-user", "demo:demo", "--port", str(port), "--s3-port", str(free_port())],
        cwd=EXAMPLE,
        env=_stack_env(database),
        stdout=log,
        stderr=subprocess.STDOUT,
        text=True,
    )
    origin = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            output = Path(log.name).read_text()
            if "Local stack ready" in output and "S3 objects:" in output:
                try:
                    requests.get(origin + "/admin/login/", timeout=5)
                    break
                except requests.ConnectionError:
                    pass
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"The restarted stack did not come up:\n{output}")
            time.sleep(0.2)
        token = re.search(r"API token:\s+(\w+)", output)
        assert token, output
        yield Demo(origin, token.group(1), output, database)
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
        log.close()


def signed_in(demo: Demo) -> requests.Session:
    """A browser-like session signed in as the demo user through the admin login form."""
    session = requests.Session()
    login = demo.origin + "/admin/login/"
    session.get(login, timeout=10).raise_for_status()
    answer = session.post(
        login,
        data={
            "username": "demo",
            "password": "demo",
            "csrfmiddlewaretoken": session.cookies["csrftoken"],
            "next": "/",
        },
        headers={"Referer": login},
        timeout=10,
    )
    answer.raise_for_status()
    return session


def test_the_restart_restores_the_objects_and_finds_none_missing(restarted_demo: Demo) -> None:
    restored = re.search(r"S3 objects:\s+\S+ \((\d+) restored\)", restarted_demo.output)
    assert restored and int(restored.group(1)) >= 8, restarted_demo.output  # 4 variants x 2
    assert "missing from the embedded S3" not in restarted_demo.output


def test_the_smoke_photo_is_in_the_gallery_and_its_images_load(restarted_demo: Demo) -> None:
    session = signed_in(restarted_demo)
    photos = session.get(restarted_demo.origin + "/api/photos/", timeout=10).json()
    smoke = [photo for photo in photos if photo["title"] == "Smoke upload"]
    assert len(smoke) == 1, photos
    image = smoke[0]["image"]
    assert image["status"] == "ready"
    assert {v["name"] for v in image["variants"]} >= {"50x50", "100x100", "400x400", "original"}
    for variant in image["variants"]:
        got = requests.get(variant["url"], timeout=10)
        assert got.status_code == 200, (variant["name"], got.status_code, got.text[:200])
        with Image.open(BytesIO(got.content)) as picture:
            assert picture.size == (variant["width"], variant["height"])
    page = session.get(restarted_demo.origin + "/", timeout=10).text
    assert f'data-photo="{smoke[0]["id"]}"' in page
    assert ">Smoke upload <" in page


def test_the_api_docs_page_serves_swagger_ui_itself(restarted_demo: Demo) -> None:
    """No CDN: every script and stylesheet the page loads comes from the demo and answers."""
    page = requests.get(restarted_demo.origin + "/api/docs/", timeout=10)
    assert page.status_code == 200
    assets = re.findall(r'(?:src|href)="([^"]+\.(?:js|css|png))"', page.text)
    assert any(a.endswith("swagger-ui-bundle.js") for a in assets), page.text
    assert any(a.endswith("swagger-ui.css") for a in assets), page.text
    for asset in assets:
        assert asset.startswith("/static/"), asset
        got = requests.get(urljoin(restarted_demo.origin, asset), timeout=10)
        assert got.status_code == 200 and got.content, asset
    assert "cdn" not in page.text.lower()


def test_ready_uploads_whose_images_vanished_are_reported(
    restarted_demo: Demo, tmp_path: Path
) -> None:
    """A database started with another (here empty) object folder: say so, plainly."""
    database = tmp_path / "copy.sqlite3"
    shutil.copy(restarted_demo.database, database)
    env_db = _stack_env(database)
    done = subprocess.run(
        [
            *STACK,
            *("--port", str(free_port()), "--s3-port", str(free_port())),
            *("--s3-state", str(tmp_path / "empty"), "--demo-user", "demo:demo"),
            *("--smoke", "--exit-after-smoke"),
        ],
        cwd=EXAMPLE,
        env=env_db,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    assert "(0 restored)" in output
    assert "1 upload(s) marked ready have images missing from the embedded S3" in output


def test_the_documented_smoke_receiver_is_the_example_projects() -> None:
    """docs/local-stack.md shows the receiver; the tests above run the example's copy."""
    doc = (EXAMPLE.parent / "docs" / "local-stack.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", doc, flags=re.DOTALL)
    receiver = [block for block in blocks if "smoke_upload_finished" in block]
    assert len(receiver) == 1
    assert receiver[0] in (EXAMPLE / "photos" / "smoke.py").read_text()
