"""The zip the deploy command builds, run as Lambda runs it: not the source tree.

The x86_64/python3.12 zip (real Pillow and pillow-heif wheels, fetched by pip)
is unzipped into an empty directory and its handler runs in an isolated
interpreter: pyenv's Python 3.12 with ``-I -S`` (no environment variables, no
site-packages), ``sys.path`` holding only the unzipped code and a boto3 of its
own. The upload is a real presigned POST to LocalStack's S3; the event is the
one S3 sends; the callback secret is read by ARN from Secrets Manager (moto's
server: the LocalStack tier runs S3 only); the signed callback goes to a live
Django server, which marks the upload ready.

The boto3 beside the code is 1.34.145, an old release of the 1.34 line: AWS
documents that the SDK in a Python runtime varies with the runtime release and
region, so the test pins an old one the handler must still work with (print
``boto3.__version__`` in your function to see yours).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import boto3
import pytest

from async_image_upload import ImageUpload, Status
from async_image_upload.conf import upload_settings
from async_image_upload.infra.package import build_lambda_zip
from async_image_upload.infra.zip_inspect import zip_problems
from async_image_upload.local.environment import lambda_environment_values
from async_image_upload.testing import s3_event
from tests.e2e.test_flow import photo_with_gps, upload_through_api

pytestmark = [pytest.mark.strict_s3, pytest.mark.registry, pytest.mark.django_db(transaction=True)]


def _runtime_python() -> Path | None:
    """``LAMBDA_PYTHON``, else the newest pyenv Python 3.12 (as .ci/run finds it)."""
    if os.environ.get("LAMBDA_PYTHON"):
        return Path(os.environ["LAMBDA_PYTHON"])
    root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv"))
    found = sorted(
        root.glob("versions/3.12*/bin/python"),
        key=lambda p: tuple(int(n) for n in p.parts[-3].split(".") if n.isdigit()),
    )
    return found[-1] if found else None


RUNTIME_PYTHON = _runtime_python()
RUNTIME_BOTO3 = "boto3==1.34.145"
RUN_HANDLER = """
import json, sys, time
task, runtime, event_path = sys.argv[1:4]
sys.path[:0] = [task, runtime]
from lambda_function.handler import lambda_handler

class Context:
    aws_request_id = "artifact-test"
    def __init__(self):
        self.deadline = time.monotonic() + 30
    def get_remaining_time_in_millis(self):
        return max(0, int((self.deadline - time.monotonic()) * 1000))

with open(event_path) as handle:
    result = lambda_handler(json.load(handle), Context())
import boto3, PIL
print(json.dumps({"result": result, "boto3": boto3.__version__, "paths": sys.path,
                  "boto3_file": boto3.__file__, "pil_file": PIL.__file__}))
"""


@pytest.fixture(scope="module")
def deployed_code(tmp_path_factory) -> tuple[Path, Path]:
    """(the unzipped package, a directory holding only the runtime's boto3)."""
    if RUNTIME_PYTHON is None or not RUNTIME_PYTHON.exists():
        reason = "no Python 3.12 for the Lambda runtime (pyenv, or set LAMBDA_PYTHON)"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    root = tmp_path_factory.mktemp("artifact")
    package = build_lambda_zip(architecture="x86_64", python_version="3.12")
    assert zip_problems(package.path, "x86_64", "3.12") == []
    task = root / "task"
    with zipfile.ZipFile(package.path) as archive:
        archive.extractall(task)
    runtime = root / "runtime"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
         "--no-compile", "--target", str(runtime), "--only-binary=:all:",
         "--python-version", "3.12", RUNTIME_BOTO3],
        check=True, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    return task, runtime


@pytest.fixture
def secret_arn(s3_server: str) -> str:
    """The callback secret in Secrets Manager, as the deploy command stores it."""
    client = boto3.client("secretsmanager", endpoint_url=s3_server, region_name="us-east-1")
    name = f"async-image-upload/artifact-{os.getpid()}/callback-secret"
    return str(
        client.create_secret(Name=name, SecretString=upload_settings.callback_secrets[0])["ARN"]
    )


def run_deployed_handler(
    task: Path, runtime: Path, event: dict[str, Any], environment: dict[str, str], tmp_path: Path
) -> dict[str, Any]:
    event_path = tmp_path / "event.json"
    event_path.write_text(json.dumps(event))
    completed = subprocess.run(
        [str(RUNTIME_PYTHON), "-I", "-S", "-c", RUN_HANDLER, str(task), str(runtime),
         str(event_path)],
        env=environment, capture_output=True, text=True, timeout=120, cwd=tmp_path,
    )  # fmt: skip
    assert completed.returncode == 0, completed.stderr[-4000:]
    return json.loads(completed.stdout.strip().splitlines()[-1])


def test_the_built_zip_makes_thumbnails_and_calls_back_as_deployed(
    deployed_code, strict_bucket, live_server, alice_client, s3_server, secret_arn, tmp_path
):
    task, runtime = deployed_code
    upload_id = upload_through_api(alice_client, strict_bucket, photo_with_gps(1200, 900))
    key = f"{upload_settings.TEMP_PREFIX}{upload_id}"
    head = strict_bucket.client.head_object(Bucket=strict_bucket.name, Key=key)
    event = s3_event(strict_bucket.name, key, head["ContentLength"], head["ETag"].strip('"'))

    environment = lambda_environment_values(
        callback_url=f"{live_server.url}/uploads/callback/",
        s3_endpoint_url=strict_bucket.endpoint_url,
    )
    del environment["CALLBACK_SECRET"]  # deployed: only the secret's ARN
    environment.update(
        CALLBACK_SECRET_ARN=secret_arn,
        AWS_ENDPOINT_URL_SECRETS_MANAGER=s3_server,
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_REGION="us-east-1",
        AWS_DEFAULT_REGION="us-east-1",
        PATH=os.environ.get("PATH", ""),
    )
    report = run_deployed_handler(task, runtime, event, environment, tmp_path)

    assert report["result"]["outcomes"] == ["ready"]
    # The code ran from the unzipped package and the runtime's boto3, nothing else.
    assert report["boto3"] == RUNTIME_BOTO3.split("==")[1]
    assert report["boto3_file"].startswith(str(runtime))
    assert report["pil_file"].startswith(str(task))
    assert not [p for p in report["paths"] if "site-packages" in p]
    upload = ImageUpload.objects.get(pk=upload_id)
    assert upload.status == Status.READY
    assert (upload.source_width, upload.source_height) == (1200, 900)
    outputs = strict_bucket.client.list_objects_v2(
        Bucket=strict_bucket.name, Prefix=f"{upload_settings.IMAGE_PREFIX}{upload_id}/"
    )
    assert len(outputs["Contents"]) >= 5  # four sharp variants, blurred ones, the manifest


def test_the_runtime_interpreter_really_is_isolated(deployed_code, tmp_path):
    """Without the unzipped code on sys.path, -I -S finds no Pillow and no boto3."""
    completed = subprocess.run(
        [str(RUNTIME_PYTHON), "-I", "-S", "-c", "import PIL"],
        env={"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(deployed_code[0])},
        capture_output=True, text=True, timeout=60, cwd=tmp_path,
    )  # fmt: skip
    assert completed.returncode != 0
    assert "No module named 'PIL'" in completed.stderr
