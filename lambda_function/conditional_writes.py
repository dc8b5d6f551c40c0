"""Conditional PUTs (``If-None-Match``/``If-Match``) on whatever botocore the runtime ships.

The claim (:mod:`.claim`) needs S3's conditional writes. botocore learnt the
``IfNoneMatch`` and ``IfMatch`` parameters of ``PutObject`` only in late 2024,
and the Lambda runtimes' bundled SDK can be older (the deployed-artifact test
runs the zip on such a release). S3 itself has honoured the headers since then
regardless of the client, so on an older botocore we send them ourselves: the
parameters are taken out before botocore validates them and put back as
headers just before the request is signed (they are then part of the SigV4
signature like any other header). On a botocore that knows them, nothing is
installed and the parameters go through botocore's own path.
"""

from __future__ import annotations

from typing import Any

#: ``PutObject`` parameter -> HTTP header.
HEADERS = {"IfNoneMatch": "If-None-Match", "IfMatch": "If-Match"}
_CONTEXT_KEY = "conditional_write_headers"


def missing_parameters(client: Any) -> set[str]:
    """The condition parameters this client's ``PutObject`` model does not know."""
    members = client.meta.service_model.operation_model("PutObject").input_shape.members
    return {name for name in HEADERS if name not in members}


def install(client: Any) -> None:
    """Let ``client.put_object`` take ``IfNoneMatch``/``IfMatch`` even where botocore cannot.

    Idempotent per client; does nothing when the SDK already models both.
    """
    missing = missing_parameters(client)
    if not missing or getattr(client, "_conditional_writes_installed", False):
        return

    def take_out(params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        headers = {HEADERS[name]: params.pop(name) for name in missing if name in params}
        if headers:
            context[_CONTEXT_KEY] = headers

    def put_back(request: Any, **_: Any) -> None:
        for header, value in request.context.get(_CONTEXT_KEY, {}).items():
            request.headers[header] = value

    client.meta.events.register("before-parameter-build.s3.PutObject", take_out)
    client.meta.events.register("before-sign.s3.PutObject", put_back)
    client._conditional_writes_installed = True
