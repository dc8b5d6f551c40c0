"""docs/deploy.md's CDN section, run as printed: the commands, the settings, the cost table.

The shell block is run line by line: the ``openssl`` lines make a real key pair
and the ``manage.py`` line runs the command with the doc's arguments plus
``--dry-run`` (no AWS account here; test_cdn_deploy.py deploys on moto). The
settings block is executed with the private key in the environment, and a URL
Django then builds must carry a signature the public key verifies.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import time
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.serialization import load_pem_public_key

from async_image_upload import s3
from async_image_upload.checks import check_settings
from async_image_upload.infra.cdn_costs import cost_table_markdown
from tests.app.test_cloudfront_signer import cloudfront_accepts
from tests.infra.deploy_command import run

DOC = Path(__file__).resolve().parents[2] / "docs" / "deploy.md"


def cdn_section() -> str:
    text = DOC.read_text()
    start = text.index("## CDN\n")
    return text[start : text.index("\n## ", start + 1)]


def blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", cdn_section(), flags=re.S)


def test_the_cost_table_is_what_the_price_module_computes():
    assert cost_table_markdown() in cdn_section()


@pytest.mark.skipif(shutil.which("openssl") is None, reason="the doc's key pair needs openssl")
def test_the_documented_commands_and_settings_work(tmp_path, monkeypatch, settings):
    (console,) = blocks("console")
    commands = [line.removeprefix("$ ") for line in console.splitlines() if line.startswith("$ ")]
    assert [c.split()[0] for c in commands] == ["openssl", "openssl", "python"]
    for command in commands[:2]:
        subprocess.run(shlex.split(command), cwd=tmp_path, check=True, capture_output=True)
    deploy = shlex.split(commands[2])
    assert deploy[:3] == ["python", "manage.py", "deploy_thumbnail_stack"]
    monkeypatch.chdir(tmp_path)  # the doc's relative cdn-public.pem
    output = run(*deploy[3:], "--dry-run")
    assert "AWS::CloudFront::KeyGroup" in output
    assert "bucket my-app-uploads" in output

    (python,) = [block for block in blocks("python") if "ASYNC_IMAGE_UPLOAD" in block]
    monkeypatch.setenv("CLOUDFRONT_PRIVATE_KEY", (tmp_path / "cdn-private.pem").read_text())
    namespace: dict[str, object] = {"os": os}
    exec(compile(python, str(DOC), "exec"), namespace)  # noqa: S102
    documented = namespace["ASYNC_IMAGE_UPLOAD"]
    settings.ASYNC_IMAGE_UPLOAD = {**settings.ASYNC_IMAGE_UPLOAD, **documented}
    ours = [m.id for m in check_settings() if m.id.startswith("async_image_upload.")]
    assert ours == []
    url = s3.object_url("image/4f1c0d2e-0000-4000-8000-000000000000/400x400.jpg")
    assert url.startswith("https://d111111abcdef8.cloudfront.net/image/")
    public_key = load_pem_public_key((tmp_path / "cdn-public.pem").read_bytes())

    assert cloudfront_accepts(url, public_key, int(time.time()))


def test_the_documented_cookie_view_sets_cookies_cloudfront_accepts(
    settings, monkeypatch, tmp_path
):
    """The view block, with ``render`` answering a plain page (the doc's template is the user's)."""
    import django.shortcuts
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from django.http import HttpResponse
    from django.test import RequestFactory

    from tests.app.test_cloudfront_signer import KEY_ID, cookie_policy_accepted

    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    settings.ASYNC_IMAGE_UPLOAD = {
        **settings.ASYNC_IMAGE_UPLOAD,
        "URL_MODE": "custom_domain",
        "CUSTOM_DOMAIN": "img.example.com",
        "CLOUDFRONT_KEY_ID": KEY_ID,
        "CLOUDFRONT_PRIVATE_KEY": private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode(),
        "CLOUDFRONT_SIGNING": "cookies",
    }
    monkeypatch.setattr(django.shortcuts, "render", lambda request, name, context: HttpResponse())
    (view,) = [block for block in blocks("python") if "def gallery" in block]
    namespace: dict[str, object] = {}
    exec(compile(view, str(DOC), "exec"), namespace)  # noqa: S102
    response = namespace["gallery"](RequestFactory().get("/gallery/"))
    cookies = {name: morsel.value for name, morsel in response.cookies.items()}
    assert set(cookies) == {"CloudFront-Policy", "CloudFront-Signature", "CloudFront-Key-Pair-Id"}
    for morsel in response.cookies.values():
        assert (morsel["domain"], morsel["secure"], morsel["httponly"]) == (
            ".example.com",
            True,
            True,
        )
    (statement,) = cookie_policy_accepted(cookies, private.public_key())["Statement"]
    assert statement["Resource"] == "https://img.example.com/image/*"
