"""The adoption test: a stranger's path from the docs to a product photo, in a fresh project.

What a new user does, with nothing but the built distributions and the docs:
build the wheel and the sdist (the wheel is built *from* the sdist, so the sdist
is proven buildable); create a venv; install the wheel with the extras the docs
name; ``django-admin startproject``; write the settings, URLs and modules the
docs' own blocks give (``_docs.py`` extracts them, so a changed snippet is the
snippet tested); migrate on PostgreSQL (a database of its own, dropped after);
start ``run_local_stack``; then the mobile flow of docs/mobile.md with
``requests``: token, presign, POST to S3, poll, attach after ready, read back,
download every variant and check its pixel size against the configured
variants, and see the docs' ``attached_upload_finished`` receiver run once per
(row, field, upload); mobile.md's curl script, as printed, the same way. Then
docs/quickstart.md's field-usage block and docs/api.md's form run in
``manage.py shell``, and docs/testing.md's downstream test runs under
pytest-django in that venv, after installing the ``testing`` extra as the doc
says. Each step prints ``[adoption +Ns] <docs step>`` live, so a CI log names
the step that broke.

Nothing is mocked: the S3 server, the Lambda code and Django are the real ones
``run_local_stack`` starts. AWS itself cannot run here; that is the local
stack's whole point. The only code of the test's own in the project is what the
docs leave to the user: ``myapp.notifications.send_push`` (signals.md's receiver
calls it) and a ``probe`` app whose receiver records every event exactly.
"""

from __future__ import annotations

import ast
import io
import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.adoption import _docs

pytestmark = pytest.mark.adoption

ROOT = Path(__file__).resolve().parents[2]
PG = {"HOST": "127.0.0.1", "PORT": 5432, "USER": "postgres"}
PROJECT = "mysite"  # docs/testing.md's pytest.ini names it
APP = "myapp"  # the docs' name for the user's app
IN_CI = os.environ.get("CI") == "true"
Step = Callable[[str], None]


def clean_env(**extra: str) -> dict[str, str]:
    """A stranger's shell: none of this repository's or CI's Python, Django or AWS settings."""
    dropped = ("PYTHONPATH", "VIRTUAL_ENV", "DJANGO_SETTINGS_MODULE", "DATABASE_URL", "PYTHONHOME")
    env = {
        name: value
        for name, value in os.environ.items()
        if name not in dropped and not name.startswith(("AWS_", "PYTEST_"))
    }
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    env.update(extra)
    return env


def run(step: Step, what: str, args: list[str], cwd: Path, timeout: float = 600, **env: str) -> str:
    """Run a command as the user would; a failure names the docs step and shows its output."""
    step(what)
    started = time.monotonic()
    completed = subprocess.run(
        [str(arg) for arg in args],
        cwd=cwd,
        env=clean_env(**env),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    output = completed.stdout + completed.stderr
    if completed.returncode != 0:
        pytest.fail(
            f"{what}: `{' '.join(map(str, args))}` exited {completed.returncode}\n{output[-6000:]}"
        )
    step(f"  ok ({time.monotonic() - started:.1f}s)")
    return output


def pip_install(venv: Path) -> list[str | Path]:
    """``pip install``, quiet, from the machine's pip cache like any install.

    ``--no-compile`` skips writing bytecode for every installed module up front
    (botocore alone has thousands): Python compiles what it imports on first
    use. What is installed is the same; the tier saves about a CPU-minute.
    """
    return [venv / "bin" / "python", "-m", "pip", "install", "--quiet", "--no-compile"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# -- the distributions and the venv --------------------------------------------------------


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("adoption")


@pytest.fixture(scope="module")
def dists(workdir: Path, step: Step) -> dict[str, Path]:
    """``python -m build``: the sdist, then the wheel built from the unpacked sdist."""
    try:
        import build  # noqa: F401
    except ImportError:
        pytest.fail("`build` is not installed in this venv: it belongs in the `test` extra")
    out = workdir / "dist"
    run(
        step,
        "Build the sdist and the wheel (python -m build)",
        [sys.executable, "-m", "build", "--outdir", out, ROOT],
        ROOT,
    )
    wheels, sdists = list(out.glob("*.whl")), list(out.glob("*.tar.gz"))
    assert len(wheels) == 1 and len(sdists) == 1, list(out.iterdir())
    return {"wheel": wheels[0], "sdist": sdists[0]}


def docs_requirement(doc: str) -> tuple[str, set[str]]:
    """The distribution and extras the install line of ``docs/<doc>`` names (the first one)."""
    lines = _docs.install_lines((_docs.DOCS / doc).read_text())
    assert lines, f"docs/{doc} has no `pip install django-async…` line"
    return _docs.split_requirement(lines[0])


def test_every_install_line_names_the_built_distribution(
    dists: dict[str, Path], step: Step
) -> None:
    """README and docs install the distribution the build makes, under one name."""
    step("README.md and docs/*.md: every `pip install` of the package names the built distribution")
    built = _docs.normalize(dists["wheel"].name.split("-")[0])
    wrong = []
    for path in [_docs.README, *sorted(_docs.DOCS.glob("*.md"))]:
        for requirement in _docs.install_lines(path.read_text()):
            name, _extras = _docs.split_requirement(requirement)
            if _docs.normalize(name) != built:
                wrong.append(f"{path.name}: pip install {requirement}")
    assert not wrong, f"install lines naming another distribution than {built}: {wrong}"


@pytest.fixture(scope="module")
def pyvenv(workdir: Path, dists: dict[str, Path], step: Step) -> Path:
    """A fresh venv with the wheel and the extras quickstart.md and local-stack.md name."""
    home = workdir / "venv"
    run(step, "python -m venv (a fresh venv)", [sys.executable, "-m", "venv", home], workdir)
    extras: set[str] = set()
    for doc in ("quickstart.md", "local-stack.md"):
        _name, named = docs_requirement(doc)
        extras |= named
    requirement = f"{dists['wheel']}[{','.join(sorted(extras))}]" if extras else str(dists["wheel"])
    # psycopg: the user's own choice of database driver (PostgreSQL), not a docs step.
    run(
        step,
        f"pip install the wheel with the extras quickstart.md and local-stack.md name: "
        f"{sorted(extras)}",
        [*pip_install(home), requirement, "psycopg[binary]"],
        workdir,
    )
    return home


# -- the project ---------------------------------------------------------------------------

PROBE_APP = '''"""The test's own receiver: every attached_upload_finished, one JSON line each."""
import json
import os

from django.apps import AppConfig

from async_image_upload import attached_upload_finished


def record(sender, instance, field_name, upload, status, **kwargs):
    with open(os.environ["ADOPTION_EVENTS"], "a") as log:
        event = [sender.__name__, instance.pk, field_name, str(upload.pk), status]
        log.write(json.dumps(event) + "\\n")


class ProbeConfig(AppConfig):
    name = "probe"

    def ready(self):
        attached_upload_finished.connect(record, dispatch_uid="probe.record")
'''

NOTIFICATIONS = '''"""signals.md's receiver calls send_push; a real one would push to a phone."""
import json
import os


def send_push(user, text):
    with open(os.environ["ADOPTION_PUSHES"], "a") as log:
        log.write(json.dumps([user.get_username(), text]) + "\\n")
'''


@pytest.fixture(scope="module")
def database(step: Step) -> Iterator[str]:
    """A PostgreSQL database of this run's own (never the shared ``test``), dropped after."""
    import psycopg

    name = f"adopt_{os.getpid()}_{secrets.token_hex(4)}"
    where = f"{PG['USER']}@{PG['HOST']}:{PG['PORT']}"
    try:
        admin = psycopg.connect(
            dbname="postgres",
            host=PG["HOST"],
            port=PG["PORT"],
            user=PG["USER"],
            autocommit=True,
            connect_timeout=5,
        )
    except psycopg.OperationalError as exc:
        if IN_CI:
            pytest.fail(f"PostgreSQL at {where} is not reachable in CI: {exc}")
        pytest.skip(f"PostgreSQL at {where} is not reachable (outside CI): {exc}")
    with admin:
        step(f"CREATE DATABASE {name}")
        admin.execute(f'CREATE DATABASE "{name}"')
        try:
            yield name
        finally:
            step(f"DROP DATABASE {name} (and pytest-django's test_{name})")
            for db in (name, f"test_{name}"):
                admin.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')


@pytest.fixture(scope="module")
def project(workdir: Path, pyvenv: Path, database: str, step: Step) -> Path:
    """startproject + startapp, then the docs' blocks written in, then migrate."""
    python = pyvenv / "bin" / "python"
    base = workdir / "project"
    base.mkdir()
    run(
        step,
        f"django-admin startproject {PROJECT} .",
        [pyvenv / "bin" / "django-admin", "startproject", PROJECT, "."],
        base,
    )
    run(step, f"manage.py startapp {APP}", [python, "manage.py", "startapp", APP], base)

    step("Write the docs' blocks into the project")
    settings_py = base / PROJECT / "settings.py"
    settings = _docs.apply_snippet(
        settings_py.read_text(), _docs.file_block("quickstart.md", "settings.py")
    )
    settings += (
        "\n# ---- the user's own: their app, PostgreSQL, and the test's probe ----\n"
        f'INSTALLED_APPS += ["{APP}", "probe"]\n'
        "DATABASES = {'default': "
        + repr({"ENGINE": "django.db.backends.postgresql", "NAME": database, **PG})
        + "}\n"
    )
    settings_py.write_text(settings)
    urls_py = base / PROJECT / "urls.py"
    urls = _docs.apply_snippet(urls_py.read_text(), _docs.file_block("quickstart.md", "urls.py"))
    urls = _docs.apply_snippet(urls, _docs.file_block("api.md", "urls.py"))
    urls_py.write_text(urls)
    for doc, name in [
        ("quickstart.md", "models.py"),
        ("signals.md", "apps.py"),
        ("signals.md", "receivers.py"),
        ("api.md", "api.py"),
        ("api.md", "admin.py"),
        ("api.md", "forms.py"),
    ]:
        block = _docs.file_block(doc, f"{APP}/{name}")
        (base / APP / name).write_text(block.code)
        step(f"  {APP}/{name} <- docs/{doc}")
    (base / APP / "notifications.py").write_text(NOTIFICATIONS)
    (base / "probe").mkdir()
    (base / "probe" / "__init__.py").write_text("")
    (base / "probe" / "apps.py").write_text(PROBE_APP)

    env = event_env(base)
    checks = run(step, "manage.py check", [python, "manage.py", "check"], base, **env)
    # The quick start's settings are complete: the app's own checks have nothing to say.
    assert "async_image_upload." not in checks, f"manage.py check on the docs' settings:\n{checks}"
    # quickstart.md step 4: `manage.py makemigrations && manage.py migrate`.
    run(
        step,
        "manage.py makemigrations (quickstart step 4)",
        [python, "manage.py", "makemigrations"],
        base,
        **env,
    )
    run(
        step,
        "manage.py migrate on PostgreSQL (quickstart step 4)",
        [python, "manage.py", "migrate"],
        base,
        **env,
    )
    return base


def event_env(base: Path) -> dict[str, str]:
    return {
        "ADOPTION_EVENTS": str(base / "events.jsonl"),
        "ADOPTION_PUSHES": str(base / "pushes.jsonl"),
    }


def read_jsonl(path: Path) -> list[Any]:
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


# -- the local stack -----------------------------------------------------------------------


class Stack:
    def __init__(self, process: subprocess.Popen[str]) -> None:
        self.process = process
        self.output: list[str] = []
        self.ready = threading.Event()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.output.append(line.rstrip("\n"))
            if "Local stack ready" in line:
                self.ready.set()

    def tail(self) -> str:
        return "\n".join(self.output[-60:])

    def banner_value(self, label: str) -> str:
        for line in self.output:
            if line.strip().startswith(label):
                return line.split(label, 1)[1].strip()
        pytest.fail(
            f"run_local_stack printed no {label!r} line (mobile.md says it does):\n{self.tail()}"
        )


@pytest.fixture(scope="module")
def stack(project: Path, pyvenv: Path, step: Step) -> Iterator[Stack]:
    """``manage.py run_local_stack --demo-user …`` (mobile.md), on free ports."""
    port, s3_port = free_port(), free_port()
    args = [
        pyvenv / "bin" / "python", "manage.py", "run_local_stack",
        "--demo-user", "alice:alice-pw", "--port", str(port), "--s3-port", str(s3_port),
    ]  # fmt: skip
    step(f"manage.py run_local_stack --demo-user alice:… --port {port} --s3-port {s3_port}")
    process = subprocess.Popen(
        [str(arg) for arg in args],
        cwd=project,
        env=clean_env(PYTHONUNBUFFERED="1", **event_env(project)),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    running = Stack(process)
    try:
        if not running.ready.wait(90):
            pytest.fail(
                f"run_local_stack did not say 'Local stack ready' within 90 s:\n{running.tail()}"
            )
        step("  the local stack is up")
        yield running
    finally:
        process.send_signal(signal.SIGTERM)  # local-stack.md: SIGTERM stops as cleanly as Ctrl-C
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)
        finally:
            running.reader.join(5)  # EOF once the process is gone; then the pipe can close
            assert process.stdout is not None
            process.stdout.close()


# -- the mobile flow -------------------------------------------------------------------------


def http_block(heading_text: str) -> tuple[str, str, dict[str, Any] | None]:
    """mobile.md's ```http block under a heading: method, path and JSON body."""
    text = (_docs.DOCS / "mobile.md").read_text()
    section = text.split(heading_text, 1)[1]
    block = re.search(r"```http\n(.*?)```", section, re.S)
    assert block, f"docs/mobile.md: no ```http block under {heading_text!r}"
    head, _, body = block[1].partition("\n\n")
    method, target = head.splitlines()[0].split()[:2]
    return method, target, json.loads(body) if body.strip() else None


def sample_image(fmt: str, size: tuple[int, int]) -> bytes:
    """A real photo-like image (gradient plus noise), so every encoder does real work."""
    from PIL import Image

    image = Image.linear_gradient("L").resize(size).convert("RGB")
    noise = Image.effect_noise(size, 40).convert("RGB")
    image = Image.blend(image, noise, 0.3)
    buffer = io.BytesIO()
    image.save(buffer, fmt, quality=90) if fmt == "JPEG" else image.save(buffer, fmt)
    return buffer.getvalue()


def configured_variants() -> dict[str, tuple[list[str], bool]]:
    """Per field: the variant names and blur the docs configure (the model block, settings.md)."""
    settings_md = (_docs.DOCS / "settings.md").read_text()
    default_variants = ast.literal_eval(re.search(r"\| `VARIANTS` \| `(\[.*?\])`", settings_md)[1])
    default_blur = re.search(r"\| `BLUR` \| `(True|False)`", settings_md)[1] == "True"
    fields: dict[str, tuple[list[str], bool]] = {}
    model = ast.parse(_docs.file_block("quickstart.md", f"{APP}/models.py").code)
    for node in ast.walk(model):
        if (
            isinstance(node, ast.Assign)
            and isinstance(node.value, ast.Call)
            and getattr(node.value.func, "id", "") == "AsyncImageField"
        ):
            options = {kw.arg: ast.literal_eval(kw.value) for kw in node.value.keywords}
            fields[node.targets[0].id] = (
                options.get("variants", default_variants),
                options.get("blur", default_blur),
            )
    assert len(fields) >= 2, "quickstart.md's model should show two AsyncImageFields"
    return fields


def expected_size(variant: str, source: tuple[int, int]) -> tuple[int, int]:
    """settings.md: `WxH` boxes, fit inside, never upscaled; `original` is the source's size."""
    if variant == "original":
        return source
    box_w, box_h = (int(n) for n in variant.split("x"))
    scale = min(box_w / source[0], box_h / source[1], 1)
    return round(source[0] * scale), round(source[1] * scale)


def close(actual: tuple[int, int], expected: tuple[int, int]) -> bool:
    return all(abs(a - e) <= 1 for a, e in zip(actual, expected, strict=True))


MOBILE: dict[str, Any] = {}


def test_mobile_flow_from_the_docs(stack: Stack, project: Path, step: Step) -> None:
    """docs/mobile.md steps 1-4 with requests, then the read-back, the variants and the event."""
    import requests
    from PIL import Image

    token = stack.banner_value("API token:")
    api = stack.banner_value("API:").rstrip("/")
    origin = api.removesuffix("/api")
    auth = {"Authorization": f"Token {token}"}
    step(f"Token from the local stack's banner; API at {api}")

    fields = configured_variants()
    sources = {
        "image": ("JPEG", "image/jpeg", (1600, 1200)),
        "avatar": ("PNG", "image/png", (900, 600)),
    }
    method, presign_path, presign_template = http_block("## Step 1")
    ready: dict[str, dict[str, Any]] = {}
    for field_name, (fmt, content_type, size) in sources.items():
        assert field_name in fields, f"quickstart's model has no field {field_name!r}"
        data = sample_image(fmt, size)
        body = {
            **presign_template,
            "field": f"{APP}.Photo.{field_name}",
            "content_type": content_type,
            "size": len(data),
        }
        step(f"mobile.md step 1 ({field_name}): {method} {presign_path} {json.dumps(body)}")
        response = requests.request(
            method, origin + presign_path, json=body, headers=auth, timeout=30
        )
        assert response.status_code == 201, (
            f"step 1 (presign) answered {response.status_code}: {response.text}"
        )
        presigned = response.json()

        step(
            f"mobile.md step 2 ({field_name}): multipart POST to {presigned['url']}, "
            "the fields then the file"
        )
        s3 = requests.post(
            presigned["url"],
            data=presigned["fields"],
            files={"file": (body["filename"], data, content_type)},
            timeout=60,
        )
        assert 200 <= s3.status_code < 300, f"step 2 (S3 POST) answered {s3.status_code}: {s3.text}"

        step(f"mobile.md step 3 ({field_name}): poll {presigned['status_url']} with backoff")
        delay, deadline = 0.25, time.monotonic() + 90
        while True:
            status = requests.get(presigned["status_url"], headers=auth, timeout=30)
            assert status.status_code == 200, (
                f"step 3 (poll) answered {status.status_code}: {status.text}"
            )
            current = status.json()
            if current["status"] != "pending" or time.monotonic() > deadline:
                break
            time.sleep(delay)
            delay = min(delay * 1.6, 2)
        assert current["status"] == "ready", f"step 3: the upload ended {current}\n{stack.tail()}"
        step(f"  ready: {len(current['variants'])} variants")
        ready[field_name] = {"upload": current, "size": size}

    # Step 4, after ready (the mobile order): attach the image, then the avatar.
    method, photos_path, attach_template = http_block("## Step 4")
    body = {**attach_template, "image": ready["image"]["upload"]["id"]}
    step(f"mobile.md step 4: {method} {photos_path} {json.dumps(body)} (after ready)")
    created = requests.request(method, origin + photos_path, json=body, headers=auth, timeout=30)
    assert created.status_code == 201, (
        f"step 4 (attach) answered {created.status_code}: {created.text}"
    )
    photo_url = f"{origin}{photos_path}{created.json()['id']}/"
    step(f"attach the avatar: PATCH {photo_url} (api.md's viewset)")
    patched = requests.patch(
        photo_url, json={"avatar": ready["avatar"]["upload"]["id"]}, headers=auth, timeout=30
    )
    assert patched.status_code == 200, (
        f"attaching the avatar answered {patched.status_code}: {patched.text}"
    )
    step("re-save without a change of upload: PATCH the title")
    resaved = requests.patch(
        photo_url, json={"title": body.get("title", "") + "!"}, headers=auth, timeout=30
    )
    assert resaved.status_code == 200, resaved.text

    step(f"read back: GET {photo_url}")
    photo = requests.get(photo_url, headers=auth, timeout=30).json()
    for field_name, (variant_names, blur) in fields.items():
        value = photo[field_name]
        assert value["status"] == "ready", f"{field_name} read back as {value}"
        assert value["id"] == ready[field_name]["upload"]["id"]
        got = sorted((v["name"], v["blurred"]) for v in value["variants"])
        want = sorted(
            [(name, False) for name in variant_names]
            + [(name, True) for name in variant_names if blur]
        )
        assert got == want, f"{field_name}: variants {got}, configured {want}"
        source = ready[field_name]["size"]
        for variant in value["variants"]:
            download = requests.get(variant["url"], timeout=30)
            assert download.status_code == 200, (
                f"{variant['name']}: GET {variant['url']} -> {download.status_code}"
            )
            pixels = Image.open(io.BytesIO(download.content)).size
            expected = expected_size(variant["name"], source)
            assert pixels == (variant["width"], variant["height"]), (field_name, variant, pixels)
            assert close((variant["display_width"], variant["display_height"]), expected), (
                field_name,
                variant,
                expected,
            )
            if not variant["blurred"]:
                assert close(pixels, expected), (
                    f"{field_name} {variant['name']}: {pixels}, configured {expected}"
                )
            step(
                f"  {field_name} {variant['name']}{' (blurred)' if variant['blurred'] else ''}: "
                f"{pixels[0]}x{pixels[1]} px"
            )

    step("attached_upload_finished: once per (row, field, upload), the docs' receiver included")
    events_path, pushes_path = (Path(p) for p in event_env(project).values())
    want_events = [
        ["Photo", photo["id"], "image", ready["image"]["upload"]["id"], "ready"],
        ["Photo", photo["id"], "avatar", ready["avatar"]["upload"]["id"], "ready"],
    ]
    deadline = time.monotonic() + 10
    while len(read_jsonl(events_path)) < len(want_events) and time.monotonic() < deadline:
        time.sleep(0.1)
    time.sleep(1)  # anything extra would have arrived by now (the events are sent on commit)
    assert read_jsonl(events_path) == want_events, (
        f"events: {read_jsonl(events_path)}\n{stack.tail()}"
    )
    title = body.get("title") or "Your photo"
    assert read_jsonl(pushes_path) == [["alice", f"{title} is ready"]] * 2, read_jsonl(pushes_path)
    MOBILE.update(photo_id=photo["id"], image=ready["image"]["upload"]["id"])


def test_the_curl_flow_from_mobile_md(
    stack: Stack, project: Path, tmp_path: Path, step: Step
) -> None:
    """mobile.md's curl script as printed, with the token pasted in as the doc says."""
    import shutil

    missing = [tool for tool in ("bash", "curl", "jq") if shutil.which(tool) is None]
    if missing:
        message = f"mobile.md's curl flow needs {missing}"
        pytest.fail(message) if IN_CI else pytest.skip(message)
    script = _docs.block_containing("mobile.md", "TOKEN=paste-the-token", lang="sh").code
    api = stack.banner_value("API:").rstrip("/")
    script = re.sub(r"^API=.*$", f"API={api}", script, count=1, flags=re.M)
    script = re.sub(r"^TOKEN=.*$", f"TOKEN={stack.banner_value('API token:')}", script, flags=re.M)
    # The doc's field id is the example project's (photos.Photo.image); ours is myapp's.
    script = script.replace("photos.Photo.image", f"{APP}.Photo.image")
    (tmp_path / "photo.jpg").write_bytes(sample_image("JPEG", (1200, 800)))
    (tmp_path / "curl-flow.sh").write_text(script)
    before = len(read_jsonl(Path(event_env(project)["ADOPTION_EVENTS"])))
    output = run(step, "mobile.md: the whole flow with curl", ["bash", "curl-flow.sh"], tmp_path)
    step("  " + " | ".join(line for line in output.splitlines() if "answered" in line))
    assert re.search(r"S3 answered 2\d\d", output), output
    status = json.loads((tmp_path / "status.json").read_text())
    assert status["status"] == "ready", status
    assert '"title": "From curl"' in output, output
    events = read_jsonl(Path(event_env(project)["ADOPTION_EVENTS"]))
    assert [event[2:] for event in events[before:]] == [["image", status["id"], "ready"]], events


# -- the quick start's and api.md's Python, in manage.py shell ------------------------------


SHELL = """
import json
from django.contrib.auth import get_user_model
from {app}.models import Photo
photo = Photo.objects.get(pk={photo_id})
photos = list(Photo.objects.all())
results = {{}}
namespace = dict(photo=photo, photos=photos)
source = {usage!r}
import ast
for node in ast.parse(source).body:
    code = ast.get_source_segment(source, node)
    if isinstance(node, ast.Expr):
        results[code] = repr(eval(code, namespace))
    else:
        exec(code, namespace)
from {app}.forms import PhotoForm
form = PhotoForm({{"title": "Edited", "image": "{image}"}}, instance=photo, user=photo.owner)
results["form.is_valid()"] = repr(form.is_valid()) + " " + form.errors.as_json()
print("RESULTS" + json.dumps(results))
"""


def test_quickstart_field_usage_and_the_form_run_in_the_project(
    pyvenv: Path, project: Path, step: Step
) -> None:
    """quickstart.md "Using the field" on the photo the mobile flow attached, and api.md's form."""
    if not MOBILE:
        pytest.fail("needs the photo the mobile flow attached: see test_mobile_flow_from_the_docs")
    usage = _docs.block_containing("quickstart.md", "prefetch_uploads(photos").code
    script = SHELL.format(app=APP, photo_id=MOBILE["photo_id"], image=MOBILE["image"], usage=usage)
    # Presigning GET URLs is local signing: any keys do. The user's shell has real ones.
    output = run(
        step,
        "quickstart.md 'Using the field' and api.md's PhotoForm in manage.py shell",
        [pyvenv / "bin" / "python", "manage.py", "shell", "-c", script],
        project,
        AWS_ACCESS_KEY_ID="adoption",
        AWS_SECRET_ACCESS_KEY="adoption",
        **event_env(project),
    )
    results = json.loads(output.split("RESULTS", 1)[1].splitlines()[0])
    for code, value in results.items():
        step(f"  {code.splitlines()[0][:60]:<60} -> {value[:70]}")
    assert results["photo.image.status"] == "'ready'"
    assert results["photo.image.is_ready"] == "True"
    assert results['photo.image.url("400x400")'].startswith("'http"), results
    assert results["photo.image.placeholder"].startswith("'data:image/"), results
    assert results["form.is_valid()"].startswith("True"), results["form.is_valid()"]


# -- docs/testing.md's downstream test -------------------------------------------------------


def test_the_downstream_test_from_testing_md_passes(
    pyvenv: Path, dists: dict[str, Path], project: Path, step: Step
) -> None:
    """Install the ``testing`` extra as testing.md says; its pytest.ini and test file as printed."""
    name, extras = docs_requirement("testing.md")
    requirement = f"{dists['wheel']}[{','.join(sorted(extras))}]"
    run(
        step,
        f"testing.md: pip install {name}[{','.join(sorted(extras))}] (the wheel)",
        [*pip_install(pyvenv), requirement],
        project,
    )
    ini = _docs.file_block("testing.md", "pytest.ini", lang="ini")
    (project / "pytest.ini").write_text(ini.code)
    test_file = _docs.file_block("testing.md", "tests/test_photo_upload.py")
    (project / "tests").mkdir(exist_ok=True)
    (project / "tests" / "test_photo_upload.py").write_text(test_file.code)
    output = run(
        step,
        "testing.md: pytest tests/test_photo_upload.py in the project (pytest-django, PostgreSQL)",
        [
            pyvenv / "bin" / "python",
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "tests/test_photo_upload.py",
        ],
        project,
        **event_env(project),
    )
    assert "1 passed" in output, output[-3000:]
