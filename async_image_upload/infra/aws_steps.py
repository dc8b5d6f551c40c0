"""The AWS half of ``deploy_thumbnail_stack``: sessions, checks, deploy, merge, report.

Kept out of the command module so that ``--dry-run``/``--output`` never import
boto3 sessions, and so each step can be read top to bottom. Every AWS failure a
user can cause (no credentials, unknown region, bucket taken, stack stuck) ends
in a ``CommandError`` that says what to do.
"""

from __future__ import annotations

import contextlib
import functools
import json
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    NoCredentialsError,
    NoRegionError,
    PartialCredentialsError,
    ProfileNotFound,
)
from django.core.management.base import BaseCommand, CommandError

from async_image_upload.infra import artifacts, callback_secret, existing_bucket
from async_image_upload.infra.bucket_inspect import WrongRegion
from async_image_upload.infra.bucket_merge import BucketConflict
from async_image_upload.infra.config import StackConfig
from async_image_upload.infra.deploy import (
    DeployError,
    ResourceChange,
    delete,
    deploy,
    describe_stack,
    refuse_unusable,
    stack_outputs,
    stack_parameters,
)
from async_image_upload.infra.package import LambdaPackage, PackagingError, _describe
from async_image_upload.infra.summary import drift, settings_snippet
from async_image_upload.infra.template import build_template, template_body
from async_image_upload.infra.zip_inspect import describe_problems, zip_problems

_PARTITIONS = ("aws", "aws-cn", "aws-us-gov")


@contextlib.contextmanager
def readable_errors() -> Iterator[None]:
    """Turn the failures a user can cause into one-paragraph CommandErrors."""
    try:
        yield
    except (NoCredentialsError, PartialCredentialsError):
        raise CommandError(
            "No AWS credentials found. Run `aws configure` (or `aws sso login`), set "
            "AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or pass --profile NAME."
        ) from None
    except ProfileNotFound as exc:
        raise CommandError(f"{exc}. List profiles with `aws configure list-profiles`.") from None
    except NoRegionError:
        raise CommandError(
            "No AWS region: pass --region or set ASYNC_IMAGE_UPLOAD['REGION']."
        ) from None
    except (DeployError, PackagingError, BucketConflict, WrongRegion) as exc:
        raise CommandError(str(exc)) from None
    except ClientError as exc:
        error = exc.response.get("Error", {})
        code = error.get("Code", "")
        hint = ""
        if code in ("ExpiredToken", "ExpiredTokenException", "InvalidClientTokenId"):
            hint = " Your credentials are expired or invalid; log in again."
        elif code in ("AccessDenied", "AccessDeniedException"):
            hint = " See docs/deploy.md for the IAM permissions the deploying user needs."
        raise CommandError(
            f"AWS refused {exc.operation_name}: {error.get('Message', code)}.{hint}"
        ) from None
    except BotoCoreError as exc:
        raise CommandError(f"AWS call failed: {exc}") from None


def check_region(region: str) -> None:
    session = boto3.session.Session()
    known = {r for p in _PARTITIONS for r in session.get_available_regions("cloudformation", p)}
    if region not in known:
        raise CommandError(
            f"Unknown AWS region {region!r}. Known regions: {', '.join(sorted(known))}. "
            "(A region newer than your boto3 needs `pip install -U boto3`.)"
        )


class Clients:
    """boto3 clients from one session, all aimed at the same region and endpoint."""

    def __init__(self, config: StackConfig, options: dict[str, Any]) -> None:
        endpoint = options.get("endpoint_url")
        if not endpoint:
            check_region(config.region)
        with readable_errors():
            self.session = boto3.session.Session(
                profile_name=options.get("profile"), region_name=config.region
            )
        self._endpoint = endpoint
        self._cache: dict[str, Any] = {}

    def __getattr__(self, service: str) -> Any:
        if service.startswith("_"):
            raise AttributeError(service)
        return self.client(service)

    def client(self, service: str) -> Any:
        if service not in self._cache:
            client = self.session.client(service, endpoint_url=self._endpoint)
            if service == "s3":
                client.meta.events.register("provide-client-params.s3.*", self._name_owner)
            self._cache[service] = client
        return self._cache[service]

    @functools.cached_property
    def account(self) -> str:
        return str(self.client("sts").get_caller_identity()["Account"])

    def _name_owner(self, params: dict[str, Any], model: Any, **kwargs: Any) -> None:
        """Every S3 call on a bucket names our account as its expected owner.

        Bucket names are global: with ExpectedBucketOwner, S3 answers 403 instead
        of acting on a bucket of that name in another account (artifacts.py and
        existing-bucket mode alike). CreateBucket has no such parameter.
        """
        if "Bucket" in params and "ExpectedBucketOwner" in model.input_shape.members:
            params.setdefault("ExpectedBucketOwner", self.account)


def _confirm(command: BaseCommand, options: dict[str, Any]):
    def confirm(changes: list[ResourceChange]) -> bool:
        if options.get("yes"):
            return True
        if any(change.replacement == "True" for change in changes):
            command.stdout.write(command.style.WARNING("Some resources will be REPLACED."))
        try:
            answer = input("Execute these changes? [y/N] ")
        except EOFError:
            answer = ""
        return answer.strip().lower() in ("y", "yes")

    return confirm


def _callback_secret() -> str:
    from async_image_upload.conf import upload_settings

    secrets = upload_settings.callback_secrets
    if not secrets:
        raise CommandError(
            "No callback secret: set SECRET_KEY or ASYNC_IMAGE_UPLOAD['CALLBACK_SECRETS']."
        )
    return secrets[0]


def _stack_parameters(stack: dict[str, Any] | None) -> dict[str, str]:
    """A described stack's parameter values by key; empty when there is no stack."""
    return {
        parameter["ParameterKey"]: parameter.get("ParameterValue", "")
        for parameter in (stack or {}).get("Parameters", [])
    }


def _check_bucket(
    clients: Clients, config: StackConfig, stack: dict[str, Any] | None, account: str
) -> None:
    state = artifacts.bucket_state(clients.s3, config.bucket_name, account)
    if config.is_new_bucket:
        owned_by_stack = _stack_parameters(stack).get("BucketName") == config.bucket_name
        if state == "taken":
            raise CommandError(
                f"The bucket name {config.bucket_name!r} is taken by another AWS account "
                "(bucket names are global). Choose another with --new-bucket NAME."
            )
        if state == "ours" and not owned_by_stack:
            raise CommandError(
                f"Bucket {config.bucket_name!r} already exists in your account. Deploy with "
                f"--existing-bucket {config.bucket_name} to keep it and its data."
            )
    elif state != "ours":
        raise CommandError(
            f"Bucket {config.bucket_name!r} "
            + ("does not exist" if state == "missing" else "belongs to another account")
            + "; pass --new-bucket NAME to have the stack create one."
        )


def _package(command: BaseCommand, config: StackConfig, options: dict[str, Any]) -> LambdaPackage:
    if options.get("zip"):
        return _prebuilt_zip(Path(options["zip"]), config)
    return command._package(config, options)  # type: ignore[attr-defined]


def _prebuilt_zip(path: Path, config: StackConfig) -> LambdaPackage:
    """``--zip PATH``, with a readable error for a missing, unreadable or corrupt file."""
    rebuild = "Build one with --package-only, or leave --zip out to build it during the deploy."
    try:
        problems = zip_problems(path, config.architecture, config.python_version)
        if problems:
            raise CommandError(
                describe_problems(path, problems, config.architecture, config.runtime)
            )
        return _describe(path, config.architecture, config.python_version)
    except FileNotFoundError:
        raise CommandError(f"--zip {path}: no such file. {rebuild}") from None
    except zipfile.BadZipFile:
        raise CommandError(
            f"--zip {path} is not a zip file (corrupt or truncated?). {rebuild}"
        ) from None
    except OSError as exc:
        raise CommandError(f"--zip {path}: cannot read it ({exc.strerror or exc}).") from None


def run_aws_steps(command: BaseCommand, config: StackConfig, options: dict[str, Any]) -> None:
    """Deploy (or ``--check``/``--delete``) against AWS, reporting as it goes."""
    out = command.stdout.write
    clients = Clients(config, options)
    with readable_errors():
        if options.get("delete"):
            _teardown(clients, config, out)
            return
        stack = describe_stack(clients.cloudformation, config.stack_name)
        if options.get("check"):
            _check(clients, config, stack, out)
            return
        refuse_unusable(stack, config.stack_name)  # before minutes of building and uploading
        account = clients.account
        _check_bucket(clients, config, stack, account)
        if not config.is_new_bucket:
            # Refuse an overlapping notification before anything is deployed.
            placeholder = (
                f"arn:aws:lambda:{config.region}:{account}:function:{config.function_name}"
            )
            existing_bucket.plan(clients.s3, config, placeholder)

        package = _package(command, config, options)
        out(f"Lambda package {package.sha256[:12]}: {package.zipped_bytes:,} bytes")
        code_bucket = options.get("artifacts_bucket") or artifacts.default_artifacts_bucket(
            account, config.region
        )
        artifacts.ensure_artifacts_bucket(
            clients.s3, code_bucket, config.region, account_id=account, echo=out
        )
        code_key = artifacts.upload_package(
            clients.s3, package, code_bucket, config.stack_name, expected_owner=account
        )

        secret = callback_secret.store_callback_secret(
            clients.secretsmanager, config, _callback_secret()
        )
        if secret.outcome != "unchanged":
            out(f"Callback secret {secret.outcome} in Secrets Manager: {secret.arn}")
        result = deploy(
            template_body(build_template(config)),
            stack_name=config.stack_name,
            parameters=stack_parameters(
                config,
                code_bucket=code_bucket,
                code_key=code_key,
                callback_secret_arn=secret.arn,
                callback_secret_version=secret.version_id,
            ),
            cloudformation=clients.cloudformation,
            confirm=_confirm(command, options),
            echo=out,
            tags={"async-image-upload:stack": config.stack_name},
        )
        if result.outcome == "cancelled":
            return
        pruned = artifacts.prune_old_packages(
            clients.s3, code_bucket, config.stack_name, code_key, expected_owner=account
        )
        if pruned:
            out(
                f"Deleted {len(pruned)} older Lambda package(s) from {code_bucket} (kept as "
                f"noncurrent versions for {artifacts.NONCURRENT_ZIP_DAYS} days)."
            )
        if not config.is_new_bucket:
            existing_bucket.apply(
                clients.s3, _existing_bucket_plan(clients, config, out, result.outputs)
            )
    out(command.style.SUCCESS(f"Stack {config.stack_name}: {result.outcome}."))
    for key, value in sorted(result.outputs.items()):
        out(f"  {key}: {value}")
    out("\nPut this in your Django settings:\n")
    out(settings_snippet(config, result.outputs))


def _existing_bucket_plan(
    clients: Clients, config: StackConfig, out: Any, outputs: dict[str, str] | None = None
) -> existing_bucket.BucketPlan:
    """What the deployed function (and distribution) need changed on the user's bucket, printed."""
    function = clients.client("lambda").get_function(FunctionName=config.function_name)
    distribution_arn = (outputs or {}).get("CdnDistributionArn")
    if config.cdn and not distribution_arn:
        out(
            "warning: the stack reported no CdnDistributionArn, so the bucket policy was not "
            "given the CDN's read statement; deploy again, or merge it by hand (--dry-run "
            "prints it)."
        )
    bucket_plan = existing_bucket.plan(
        clients.s3, config, function["Configuration"]["FunctionArn"], distribution_arn
    )
    for line in bucket_plan.describe():
        out(line)
    return bucket_plan


def _check(clients: Clients, config: StackConfig, stack: dict[str, Any] | None, out) -> None:
    if stack is None:
        raise CommandError(f"Stack {config.stack_name} does not exist in {config.region}.")
    deployed = _stack_parameters(stack)
    body = clients.cloudformation.get_template(StackName=config.stack_name)["TemplateBody"]
    metadata = (json.loads(body) if isinstance(body, str) else body).get("Metadata", {})
    expected = stack_parameters(
        config, code_bucket="", code_key="", callback_secret_arn="", callback_secret_version=""
    )
    problems = drift(config, expected, deployed, metadata)
    secret_problem = callback_secret.secret_problem(
        clients.secretsmanager,
        config,
        _callback_secret(),
        deployed.get("CallbackSecretVersion", ""),
    )
    if secret_problem:
        problems.append(secret_problem)
    if not config.is_new_bucket:
        bucket_plan = _existing_bucket_plan(clients, config, out, stack_outputs(stack))
        if (
            bucket_plan.notification_changes
            or bucket_plan.lifecycle_changes
            or bucket_plan.policy_changes
        ):
            problems.append("the bucket's notification, lifecycle or policy differs (see above)")
    if problems:
        raise CommandError(
            "The stack does not match the settings:\n  "
            + "\n  ".join(problems)
            + "\nDeploy again to bring it in line."
        )
    out(f"Stack {config.stack_name} matches the settings.")


def _function_arn(clients: Clients, config: StackConfig) -> str | None:
    try:
        function = clients.client("lambda").get_function(FunctionName=config.function_name)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "ResourceNotFoundException":
            return None
        raise
    return str(function["Configuration"]["FunctionArn"])


def _teardown(clients: Clients, config: StackConfig, out) -> None:
    function_arn = _function_arn(clients, config)
    if not config.is_new_bucket:
        existing_bucket.remove(clients.s3, config.bucket_name, function_arn)
        out(f"Removed the thumbnail notification and lifecycle rules from {config.bucket_name}.")
    elif function_arn:
        # The bucket is retained, and so would be the trigger CloudFormation put on it,
        # pointing at the function the delete removes (and blocking a later
        # --existing-bucket deploy of the same bucket). Take it off first.
        stack = describe_stack(clients.cloudformation, config.stack_name)
        bucket = _stack_parameters(stack).get("BucketName") or config.bucket_name
        try:
            removed = existing_bucket.remove_notifications(clients.s3, bucket, function_arn)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "NoSuchBucket":
                raise
            removed = 0
        if removed:
            out(f"Removed the thumbnail trigger from {bucket} (the bucket is kept).")
    delete(stack_name=config.stack_name, cloudformation=clients.cloudformation, echo=out)
    if callback_secret.delete_callback_secret(clients.secretsmanager, config):
        out(
            f"Scheduled the callback secret {callback_secret.secret_name(config)} for deletion "
            "(restorable for 7 days; a new deploy restores it)."
        )
    out(
        f"Deleted stack {config.stack_name}. The upload bucket and the artifacts bucket are "
        "kept; empty and delete them yourself if you no longer need them."
    )
