"""Change-set deploys against moto's server over HTTP: create, update, no-op, delete.

moto applies only part of a template, so these tests assert what moto really
does; what it drops is asserted through the template in test_template.py:
* the bucket's Block Public Access, ownership controls, lifecycle, CORS and
  notification configuration (moto creates a bare bucket),
* the function's architecture (moto always reports x86_64),
* AWS::Lambda::EventInvokeConfig (moto warns it is unsupported and skips it),
* log group retention on update, and resource-level stack events,
* stack Outputs after a change-set execute (moto resolves them only for
  create_stack); the outputs are asserted in test_template.py,
* the stack's parameters after an UPDATE change set (moto keeps the old ones,
  so a no-op check right after an update would see a change; the no-op runs
  after the create).
"""

from __future__ import annotations

import pytest

from async_image_upload.infra.artifacts import upload_package
from async_image_upload.infra.config import DEFAULT_MEMORY_MB
from async_image_upload.infra.deploy import DeployError, delete, deploy, stack_parameters
from async_image_upload.infra.template import build_template, template_body

from .conftest import make_config
from .moto_support import MOTO_UNSUPPORTED_RESOURCES

pytestmark = pytest.mark.filterwarnings(MOTO_UNSUPPORTED_RESOURCES)
ACCOUNT = "123456789012"
SECRET_ARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:photos-AbCdEf"


def deploy_config(config, clients, zip_package, lines, **kwargs):
    clients("s3").create_bucket(Bucket="artifacts")
    key = upload_package(
        clients("s3"), zip_package, "artifacts", config.stack_name, expected_owner=ACCOUNT
    )
    return deploy(
        template_body(build_template(config)),
        stack_name=config.stack_name,
        parameters=stack_parameters(
            config,
            code_bucket="artifacts",
            code_key=key,
            callback_secret_arn=SECRET_ARN,
            callback_secret_version="v1",
        ),
        cloudformation=clients("cloudformation"),
        echo=lines.append,
        poll_seconds=0.05,
        **kwargs,
    )


def test_create_noop_update_delete(clients, source_only_zip):
    lines: list[str] = []
    config = make_config()
    created = deploy_config(config, clients, source_only_zip, lines)
    assert created.outcome == "created"
    assert {c.logical_id for c in created.changes} >= {"UploadBucket", "ThumbnailFunction"}
    assert all(c.action == "Add" for c in created.changes)
    assert any("ThumbnailFunction" in line for line in lines)  # the change list was printed
    stack = clients("cloudformation").describe_stacks(StackName="photos-thumbs")["Stacks"][0]
    assert stack["StackStatus"] == "CREATE_COMPLETE"
    assert {p["ParameterKey"]: p["ParameterValue"] for p in stack["Parameters"]}[
        "Architecture"
    ] == "arm64"

    function = clients("lambda").get_function(FunctionName="photos-thumbs-thumbnails")
    env = function["Configuration"]["Environment"]["Variables"]
    assert env["TEMP_FOLDER"] == "temp/"
    assert env["CALLBACK_URL"] == "https://app.example.com/uploads/callback/"
    assert function["Configuration"]["Handler"] == "lambda_function.handler.lambda_handler"
    assert function["Configuration"]["MemorySize"] == DEFAULT_MEMORY_MB
    clients("s3").head_bucket(Bucket="photos-example-uploads")
    policy = clients("lambda").get_policy(FunctionName="photos-thumbs-thumbnails")["Policy"]
    assert "arn:aws:s3:::photos-example-uploads" in policy

    lines.clear()
    unchanged = deploy_config(config, clients, source_only_zip, lines)
    assert unchanged.outcome == "unchanged"
    assert lines == ["No changes: stack photos-thumbs is up to date."]
    assert unchanged.changes == []

    lines.clear()
    updated = deploy_config(
        config.with_options(memory_mb=2048, blur_radius=12), clients, source_only_zip, lines
    )
    assert updated.outcome == "updated"
    assert [c.logical_id for c in updated.changes] == ["ThumbnailFunction"]
    function = clients("lambda").get_function(FunctionName="photos-thumbs-thumbnails")
    assert function["Configuration"]["MemorySize"] == 2048
    assert function["Configuration"]["Environment"]["Variables"]["BLUR_RADIUS"] == "12"

    cloudformation = clients("cloudformation")
    assert delete(stack_name="photos-thumbs", cloudformation=cloudformation, echo=lines.append,
                  poll_seconds=0.05) == "DELETE_COMPLETE"  # fmt: skip
    with pytest.raises(Exception, match="does not exist"):
        cloudformation.describe_stacks(StackName="photos-thumbs")
    with pytest.raises(Exception, match="Function not found"):
        clients("lambda").get_function(FunctionName="photos-thumbs-thumbnails")


def test_declining_the_change_set_changes_nothing(clients, source_only_zip):
    lines: list[str] = []
    seen = []
    result = deploy_config(
        make_config(), clients, source_only_zip, lines,
        confirm=lambda changes: seen.extend(changes) or False,
    )  # fmt: skip
    assert result.outcome == "cancelled"
    assert seen  # the user saw the plan before declining
    assert lines[-1] == "Cancelled; nothing was changed."
    stacks = clients("cloudformation").list_stacks()["StackSummaries"]
    assert all(s["StackStatus"] == "DELETE_COMPLETE" for s in stacks)
    assert clients("lambda").list_functions()["Functions"] == []


def test_a_stuck_stack_is_refused_with_what_to_do(clients, source_only_zip):
    config = make_config()
    deploy_config(config, clients, source_only_zip, [])
    cloudformation = clients("cloudformation")
    # moto cannot fail a resource on demand; a stack in ROLLBACK_COMPLETE is what
    # a failed first deploy leaves, so fake only the status read.
    real = cloudformation.describe_stacks

    def rolled_back(**kwargs):
        response = real(**kwargs)
        response["Stacks"][0]["StackStatus"] = "ROLLBACK_COMPLETE"
        return response

    cloudformation.describe_stacks = rolled_back
    with pytest.raises(DeployError, match="ROLLBACK_COMPLETE and cannot be updated"):
        deploy(
            template_body(build_template(config)), stack_name=config.stack_name,
            parameters={}, cloudformation=cloudformation, echo=lambda line: None,
        )  # fmt: skip
