"""The OpenAPI schema drf-spectacular generates for the three endpoints."""

from __future__ import annotations

import pytest
import yaml
from django.core.management import call_command


def test_schema_validates_and_describes_the_endpoints(tmp_path) -> None:
    out = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out))
    schema = yaml.safe_load(out.read_text())
    paths = schema["paths"]
    assert set(paths) >= {"/uploads/", "/uploads/{id}/", "/uploads/callback/"}
    create = paths["/uploads/"]["post"]
    assert "201" in create["responses"]
    assert create["requestBody"]["content"]["application/json"]["examples"]
    retrieve = paths["/uploads/{id}/"]["get"]["responses"]["200"]["content"]["application/json"]
    assert retrieve["examples"]
    callback = paths["/uploads/callback/"]["post"]["requestBody"]["content"]["application/json"]
    example = next(iter(callback["examples"].values()))["value"]
    assert example["version"] == 1 and example["status"] == "ready"
    # The callback is authenticated by its HMAC signature, not by a user.
    assert paths["/uploads/callback/"]["post"].get("security") in (None, [], [{}])
    assert paths["/uploads/{id}/"]["get"]["security"]


pytestmark = pytest.mark.django_db
