"""Create, update and delete the stack through CloudFormation change sets.

A change set shows what will happen (and whether a resource gets replaced)
before anything happens, and "no changes" is a normal outcome of a redeploy,
not an error. Events are streamed while CloudFormation works, and a failure
ends in a :class:`DeployError` that carries the failing events, so the command
can print them instead of a traceback.

Every function takes its boto3 client as an argument: tests pass clients aimed
at moto's server, the command passes clients from the user's profile.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from async_image_upload.infra.config import StackConfig

Echo = Callable[[str], None]

SUCCESS_STATUSES = {"CREATE_COMPLETE", "UPDATE_COMPLETE", "DELETE_COMPLETE", "IMPORT_COMPLETE"}
#: A stack in one of these states cannot be updated until someone looks at it.
STUCK_STATUSES = {"ROLLBACK_COMPLETE", "ROLLBACK_FAILED", "DELETE_FAILED", "UPDATE_ROLLBACK_FAILED"}
_NO_CHANGES = ("didn't contain changes", "No updates are to be performed")


class DeployError(RuntimeError):
    """A deploy that did not finish; ``events`` are the failing stack events."""

    def __init__(self, message: str, events: Sequence[dict[str, Any]] = ()) -> None:
        super().__init__(message)
        self.events = list(events)


@dataclass(frozen=True)
class ResourceChange:
    """One line of a change set: what happens to which resource."""

    action: str
    logical_id: str
    resource_type: str
    replacement: str | None

    def __str__(self) -> str:
        replacement = {"True": "  (REPLACED)", "Conditional": "  (may be replaced)"}.get(
            self.replacement or "", ""
        )
        return f"  {self.action:<8} {self.resource_type:<34} {self.logical_id}{replacement}"


@dataclass
class DeployResult:
    """How a deploy ended: ``created``, ``updated``, ``unchanged`` or ``cancelled``."""

    outcome: str
    outputs: dict[str, str] = field(default_factory=dict)
    changes: list[ResourceChange] = field(default_factory=list)


def stack_parameters(
    config: StackConfig,
    *,
    code_bucket: str,
    code_key: str,
    callback_secret_arn: str,
    callback_secret_version: str,
) -> dict[str, str]:
    """Every parameter value, explicitly: an omitted one would fall back to a default.

    The callback secret is named by ARN and version; its value is in Secrets Manager.
    """
    parameters = {
        "BucketName": config.bucket_name,
        "FunctionName": config.function_name,
        "TempPath": config.temp_prefix,
        "ImagePath": config.image_prefix,
        "MemorySize": str(config.memory_mb),
        "Timeout": str(config.timeout_seconds),
        "Architecture": config.architecture,
        "Runtime": config.runtime,
        "LogRetentionDays": str(config.log_retention_days),
        "CodeBucket": code_bucket,
        "CodeKey": code_key,
        "CallbackSecretArn": callback_secret_arn,
        "CallbackSecretVersion": callback_secret_version,
    }
    if config.is_new_bucket:
        parameters["ExpirationDays"] = str(config.temp_expiration_days)
    return parameters


def describe_stack(cloudformation: Any, stack_name: str) -> dict[str, Any] | None:
    """The stack's description, or ``None`` when there is no such stack."""
    try:
        (stack,) = cloudformation.describe_stacks(StackName=stack_name)["Stacks"]
    except ClientError as exc:
        if "does not exist" in str(exc):
            return None
        raise
    return stack


def refuse_unusable(stack: dict[str, Any] | None, stack_name: str) -> None:
    """Raise :class:`DeployError` for a stack no change set can update (stuck or busy).

    The command asks before it builds and uploads the package, so a user with a
    ROLLBACK_COMPLETE stack learns what to do in a second, not after minutes.
    """
    status = stack["StackStatus"] if stack else None
    if status in STUCK_STATUSES:
        raise DeployError(
            f"stack {stack_name} is in {status} and cannot be updated. Look at its events in "
            f"the CloudFormation console, then delete it (manage.py deploy_thumbnail_stack "
            f"--delete, or aws cloudformation delete-stack --stack-name {stack_name}) and deploy "
            "again. A retained upload bucket survives; deploy with --existing-bucket then."
        )
    if status and status.endswith("_IN_PROGRESS") and status != "REVIEW_IN_PROGRESS":
        raise DeployError(f"stack {stack_name} is busy ({status}); try again when it finishes")


def stack_outputs(stack: dict[str, Any] | None) -> dict[str, str]:
    return {o["OutputKey"]: o["OutputValue"] for o in (stack or {}).get("Outputs", [])}


def _wait_for_change_set(
    cloudformation: Any, change_set_id: str, poll_seconds: float, timeout_seconds: float
) -> dict[str, Any]:
    deadline = time.monotonic() + timeout_seconds
    while True:
        described = cloudformation.describe_change_set(ChangeSetName=change_set_id)
        if described["Status"] in ("CREATE_COMPLETE", "FAILED"):
            return described
        if time.monotonic() > deadline:
            raise DeployError(f"change set {change_set_id} still {described['Status']}")
        time.sleep(poll_seconds)


def _changes(described: dict[str, Any]) -> list[ResourceChange]:
    changes = []
    for change in described.get("Changes", []):
        resource = change["ResourceChange"]
        changes.append(
            ResourceChange(
                action=resource["Action"],
                logical_id=resource["LogicalResourceId"],
                resource_type=resource.get("ResourceType", ""),
                replacement=resource.get("Replacement"),
            )
        )
    return changes


def _event_line(event: dict[str, Any]) -> str:
    reason = event.get("ResourceStatusReason") or ""
    stamp = event["Timestamp"].strftime("%H:%M:%S")
    return (
        f"  {stamp} {event['ResourceStatus']:<28} {event.get('ResourceType', ''):<34} "
        f"{event['LogicalResourceId']}{'  ' + reason if reason else ''}"
    )


class EventStream:
    """Prints stack events once each, oldest first, as CloudFormation produces them."""

    def __init__(self, cloudformation: Any, stack_name: str, echo: Echo) -> None:
        self.cloudformation = cloudformation
        self.stack_name = stack_name
        self.echo = echo
        self.seen: set[str] = set()
        self.printed: list[dict[str, Any]] = []

    def skip_existing(self) -> None:
        """Mark the events that happened before this deploy as already seen."""
        self.seen.update(e["EventId"] for e in self._events())

    def _events(self) -> list[dict[str, Any]]:
        try:
            pages = self.cloudformation.get_paginator("describe_stack_events").paginate(
                StackName=self.stack_name
            )
            events = [event for page in pages for event in page["StackEvents"]]
        except ClientError as exc:
            if "does not exist" in str(exc):  # deleted: no more events to show
                return []
            raise
        return events

    def poll(self) -> None:
        fresh = [e for e in self._events() if e["EventId"] not in self.seen]
        for event in sorted(fresh, key=lambda e: e["Timestamp"]):
            self.seen.add(event["EventId"])
            self.printed.append(event)
            self.echo(_event_line(event))

    def failures(self) -> list[dict[str, Any]]:
        return [e for e in self.printed if e["ResourceStatus"].endswith("_FAILED")]


def wait_for_stack(
    cloudformation: Any,
    stack_name: str,
    stream: EventStream,
    *,
    poll_seconds: float,
    timeout_seconds: float,
    stack_id: str | None = None,
) -> str:
    """Stream events until the stack leaves ``*_IN_PROGRESS``; return the final status."""
    deadline = time.monotonic() + timeout_seconds
    while True:
        stream.poll()
        stack = describe_stack(cloudformation, stack_id or stack_name)
        status = stack["StackStatus"] if stack else "DELETE_COMPLETE"
        if not status.endswith("_IN_PROGRESS"):
            stream.poll()
            return status
        if time.monotonic() > deadline:
            raise DeployError(f"gave up waiting for {stack_name}: still {status}")
        time.sleep(poll_seconds)


def deploy(
    template_body: str,
    *,
    stack_name: str,
    parameters: dict[str, str],
    cloudformation: Any,
    confirm: Callable[[list[ResourceChange]], bool] = lambda changes: True,
    echo: Echo = print,
    tags: dict[str, str] | None = None,
    poll_seconds: float = 5.0,
    timeout_seconds: float = 3600.0,
) -> DeployResult:
    """Create or update ``stack_name`` through a change set and wait for the result.

    ``confirm`` sees the planned changes and returns ``False`` to cancel (the
    change set is deleted, nothing changes). Raises :class:`DeployError` when
    CloudFormation fails, with the failing events.
    """
    stack = describe_stack(cloudformation, stack_name)
    refuse_unusable(stack, stack_name)
    status = stack["StackStatus"] if stack else None
    creating = status in (None, "REVIEW_IN_PROGRESS")

    change_set = cloudformation.create_change_set(
        StackName=stack_name,
        ChangeSetName=f"async-image-upload-{uuid.uuid4().hex[:12]}",
        ChangeSetType="CREATE" if creating else "UPDATE",
        TemplateBody=template_body,
        Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in parameters.items()],
        Capabilities=["CAPABILITY_IAM"],
        Tags=[{"Key": k, "Value": v} for k, v in (tags or {}).items()],
        Description="django-async-image-upload deploy_thumbnail_stack",
    )
    change_set_id = change_set["Id"]
    described = _wait_for_change_set(cloudformation, change_set_id, poll_seconds, timeout_seconds)
    if described["Status"] == "FAILED":
        reason = described.get("StatusReason", "")
        cloudformation.delete_change_set(ChangeSetName=change_set_id)
        if any(marker in reason for marker in _NO_CHANGES):
            echo(f"No changes: stack {stack_name} is up to date.")
            return DeployResult("unchanged", stack_outputs(stack))
        raise DeployError(f"CloudFormation rejected the change set: {reason}")

    changes = _changes(described)
    echo(f"{'Creating' if creating else 'Updating'} stack {stack_name}:")
    for change in changes:
        echo(str(change))
    if not confirm(changes):
        cloudformation.delete_change_set(ChangeSetName=change_set_id)
        if creating:  # an unexecuted CREATE change set leaves an empty REVIEW_IN_PROGRESS stack
            cloudformation.delete_stack(StackName=stack_name)
        echo("Cancelled; nothing was changed.")
        return DeployResult("cancelled", changes=changes)

    stream = EventStream(cloudformation, stack_name, echo)
    stream.skip_existing()
    cloudformation.execute_change_set(ChangeSetName=change_set_id)
    final = wait_for_stack(
        cloudformation, stack_name, stream, poll_seconds=poll_seconds,
        timeout_seconds=timeout_seconds,
    )  # fmt: skip
    if final not in SUCCESS_STATUSES:
        failures = stream.failures()
        details = "\n".join(_event_line(e) for e in failures) or "  (no failure events reported)"
        raise DeployError(
            f"stack {stack_name} ended in {final}. What failed:\n{details}", events=failures
        )
    return DeployResult(
        "created" if creating else "updated",
        stack_outputs(describe_stack(cloudformation, stack_name)),
        changes,
    )


def delete(
    *,
    stack_name: str,
    cloudformation: Any,
    echo: Echo = print,
    poll_seconds: float = 5.0,
    timeout_seconds: float = 3600.0,
) -> str:
    """Delete the stack and wait; the upload bucket is retained (DeletionPolicy)."""
    stack = describe_stack(cloudformation, stack_name)
    if stack is None:
        echo(f"Stack {stack_name} does not exist; nothing to delete.")
        return "DELETE_COMPLETE"
    stream = EventStream(cloudformation, stack_name, echo)
    stream.skip_existing()
    cloudformation.delete_stack(StackName=stack_name)
    final = wait_for_stack(
        cloudformation, stack_name, stream, poll_seconds=poll_seconds,
        timeout_seconds=timeout_seconds, stack_id=stack["StackId"],
    )  # fmt: skip
    if final != "DELETE_COMPLETE":
        details = "\n".join(_event_line(e) for e in stream.failures())
        raise DeployError(f"stack {stack_name} ended in {final}:\n{details}", stream.failures())
    return final
