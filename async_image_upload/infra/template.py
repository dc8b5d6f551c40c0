"""The CloudFormation template, built with troposphere from a :class:`StackConfig`.

:func:`build_template` is pure: no AWS calls, no Django settings, the same config
always gives the same template. The deploy command, ``--output`` and the tests all
use it, so the template a user uploads by hand is the one the tests lint.

Why it is shaped this way:

* The Lambda permission's ``SourceArn`` and the role's S3 resources are built from
  the *bucket name parameter*, not ``GetAtt Bucket.Arn``. That breaks the classic
  bucket → function → permission → bucket cycle: the bucket ``DependsOn`` the
  permission (S3 checks it may invoke the function when the notification is set).
* The callback secret lives in Secrets Manager (the deploy command writes it);
  the template holds only its ARN and version, and the role may read that one secret.
* Every bucket and the dead-letter queue refuse requests that are not over TLS.
* Resources that checkov flags on purpose carry the reason in their ``Metadata``.
"""

from __future__ import annotations

from typing import Any

from troposphere import (
    AccountId,
    GetAtt,
    Output,
    Parameter,
    Ref,
    Region,
    Sub,
    Tags,
    Template,
    awslambda,
    cloudwatch,
    iam,
    logs,
    s3,
    sns,
    sqs,
)

from async_image_upload.infra.cdn import cdn_outputs, cdn_resources, template_read_statement
from async_image_upload.infra.config import (
    ARCHITECTURES,
    LOG_RETENTION_DAYS,
    RUNTIMES,
    StackConfig,
)
from async_image_upload.infra.environment import lambda_environment

HANDLER = "lambda_function.handler.lambda_handler"
#: Tags every resource so a console user can tell what made it.
TAG_KEY = "async-image-upload:stack"
#: The notification configuration id the command owns on an existing bucket.
NOTIFICATION_ID = "async-image-upload-thumbnails"
LIFECYCLE_TEMP_RULE_ID = "async-image-upload-expire-temp"
LIFECYCLE_MULTIPART_RULE_ID = "async-image-upload-abort-multipart"
LIFECYCLE_TEMP_MARKERS_RULE_ID = f"{LIFECYCLE_TEMP_RULE_ID}-markers"
#: How long a versioned bucket keeps a processed original as a noncurrent version.
NONCURRENT_DAYS = 1
DLQ_RETENTION_SECONDS = 14 * 24 * 60 * 60

# Logical ids: part of the public surface (renaming one replaces the resource).
BUCKET = "UploadBucket"
FUNCTION = "ThumbnailFunction"
ROLE = "ThumbnailFunctionRole"
PERMISSION = "ThumbnailFunctionS3Permission"
LOG_GROUP = "ThumbnailFunctionLogGroup"
DLQ = "ThumbnailDeadLetterQueue"
INVOKE_CONFIG = "ThumbnailFunctionInvokeConfig"
BUCKET_POLICY = "UploadBucketPolicy"
DLQ_POLICY = "ThumbnailDeadLetterQueuePolicy"
ALARM_TOPIC = "ThumbnailAlarmTopic"
ALARM_SUBSCRIPTION = "ThumbnailAlarmEmail"
DLQ_ALARM = "ThumbnailDeadLetterQueueAlarm"
ERRORS_ALARM = "ThumbnailErrorsAlarm"
THROTTLES_ALARM = "ThumbnailThrottlesAlarm"


class _LoggingConfig(awslambda.LoggingConfig):
    """troposphere 4.11 lost ``LogFormat`` from LoggingConfig; CloudFormation has it."""

    props = {**awslambda.LoggingConfig.props, "LogFormat": (str, False)}


def tls_only_statement(resource: Any, *, service: str = "s3") -> dict[str, Any]:
    """Deny every request on ``resource`` that is not made over TLS (Security Hub S3.5).

    A Deny with ``Principal: "*"`` names who is refused, never who is let in.
    """
    return {
        "Sid": "DenyRequestsWithoutTLS",
        "Effect": "Deny",
        "Principal": "*",
        "Action": f"{service}:*",
        "Resource": resource,
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }


def bucket_tls_statement(bucket_arn: Any, object_arn: Any) -> dict[str, Any]:
    return tls_only_statement([bucket_arn, object_arn])


def _skip(*checks: tuple[str, str]) -> dict[str, Any]:
    """Resource Metadata that tells checkov which check is skipped, and why."""
    return {"checkov": {"skip": [{"id": check, "comment": reason} for check, reason in checks]}}


def _parameters(template: Template, config: StackConfig) -> dict[str, Parameter]:
    params = {
        "BucketName": Parameter(
            "BucketName",
            Type="String",
            Default=config.bucket_name,
            AllowedPattern=r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$",
            Description=(
                "Bucket that receives the uploads"
                + (" (created by this stack)" if config.is_new_bucket else " (already exists)")
            ),
        ),
        "FunctionName": Parameter(
            "FunctionName",
            Type="String",
            Default=config.function_name,
            AllowedPattern=r"^[A-Za-z0-9_-]{1,64}$",
            Description="Name of the thumbnail Lambda function",
        ),
        "TempPath": Parameter(
            "TempPath",
            Type="String",
            Default=config.temp_prefix,
            AllowedPattern=r"^[^/].*/$",
            Description="Key prefix of the uploaded sources (Django's TEMP_PREFIX)",
        ),
        "ImagePath": Parameter(
            "ImagePath",
            Type="String",
            Default=config.image_prefix,
            AllowedPattern=r"^[^/].*/$",
            Description="Key prefix of the generated images (Django's IMAGE_PREFIX)",
        ),
        "MemorySize": Parameter(
            "MemorySize",
            Type="Number",
            Default=str(config.memory_mb),
            MinValue=128,
            MaxValue=10240,
            Description="Lambda memory in MB (also buys CPU)",
        ),
        "Timeout": Parameter(
            "Timeout",
            Type="Number",
            Default=str(config.timeout_seconds),
            MinValue=1,
            MaxValue=900,
            Description="Lambda timeout in seconds",
        ),
        "Architecture": Parameter(
            "Architecture",
            Type="String",
            Default=config.architecture,
            AllowedValues=list(ARCHITECTURES),
            Description="Instruction set; the code package must be built for the same one",
        ),
        "Runtime": Parameter(
            "Runtime",
            Type="String",
            Default=config.runtime,
            AllowedValues=list(RUNTIMES),
            Description="Python runtime; the code package must be built for the same one",
        ),
        "LogRetentionDays": Parameter(
            "LogRetentionDays",
            Type="Number",
            Default=str(config.log_retention_days),
            AllowedValues=[str(days) for days in LOG_RETENTION_DAYS],
            Description="Days CloudWatch keeps the function's logs",
        ),
        "CodeBucket": Parameter(
            "CodeBucket",
            Type="String",
            Description="Bucket holding the Lambda zip (manage.py deploy_thumbnail_stack "
            "--package-only builds it)",
        ),
        "CodeKey": Parameter(
            "CodeKey",
            Type="String",
            Description="Key of the Lambda zip; named by its content hash so a changed "
            "package always changes the key",
        ),
        "CallbackSecretArn": Parameter(
            "CallbackSecretArn",
            Type="String",
            AllowedPattern=r"^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:[0-9]{12}:secret:.+$",
            Description="Secrets Manager secret that signs callbacks to Django (the deploy "
            "command writes its value; the template and the function's environment never "
            "hold it)",
        ),
        "CallbackSecretVersion": Parameter(
            "CallbackSecretVersion",
            Type="String",
            MinLength=1,
            Description="Version of the callback secret the function reads; a rotation "
            "changes it, so every instance picks the new value up on the redeploy",
        ),
    }
    if config.is_new_bucket:
        params["ExpirationDays"] = Parameter(
            "ExpirationDays",
            Type="Number",
            Default=str(config.temp_expiration_days),
            MinValue=1,
            Description="Days before an uploaded source under TempPath is deleted",
        )
    for param in params.values():
        template.add_parameter(param)
    return params


def _bucket(config: StackConfig, parameters: dict[str, Parameter]) -> s3.Bucket:
    optional: dict[str, Any] = {}
    if config.cors_origins:
        optional["CorsConfiguration"] = s3.CorsConfiguration(
            CorsRules=[
                s3.CorsRules(
                    Id="BrowserUploads",
                    AllowedMethods=["POST"],
                    AllowedOrigins=list(config.cors_origins),
                    AllowedHeaders=["*"],
                    ExposedHeaders=["ETag"],
                    MaxAge=3000,
                )
            ]
        )
    return s3.Bucket(
        BUCKET,
        BucketName=Ref(parameters["BucketName"]),
        DeletionPolicy="Retain",
        UpdateReplacePolicy="Retain",
        DependsOn=[PERMISSION],
        Metadata=_skip(
            (
                "CKV_AWS_18",
                "Server access logging needs a second bucket that this stack does not own; "
                "enable it on an existing log bucket or use CloudTrail data events.",
            ),
            (
                "CKV_AWS_21",
                "Versioning would keep every expired temp upload as a noncurrent version; "
                "outputs are regenerated from sources, and the bucket is retained on delete.",
            ),
        ),
        PublicAccessBlockConfiguration=s3.PublicAccessBlockConfiguration(
            BlockPublicAcls=True,
            BlockPublicPolicy=True,
            IgnorePublicAcls=True,
            RestrictPublicBuckets=True,
        ),
        OwnershipControls=s3.OwnershipControls(
            Rules=[s3.OwnershipControlsRule(ObjectOwnership="BucketOwnerEnforced")]
        ),
        BucketEncryption=s3.BucketEncryption(
            ServerSideEncryptionConfiguration=[
                s3.ServerSideEncryptionRule(
                    ServerSideEncryptionByDefault=s3.ServerSideEncryptionByDefault(
                        SSEAlgorithm="AES256"
                    ),
                    BucketKeyEnabled=True,
                )
            ]
        ),
        LifecycleConfiguration=s3.LifecycleConfiguration(
            Rules=[
                # CloudFormation's lifecycle Rule has no Filter: its Prefix is the
                # resource property, which CloudFormation sends to S3 as the filter.
                s3.LifecycleRule(
                    Id=LIFECYCLE_TEMP_RULE_ID,
                    Status="Enabled",
                    Prefix=Ref(parameters["TempPath"]),
                    ExpirationInDays=Ref(parameters["ExpirationDays"]),
                    # If versioning is ever turned on, a processed original (GPS EXIF
                    # and all) would otherwise stay forever as a noncurrent version.
                    NoncurrentVersionExpiration=s3.NoncurrentVersionExpiration(
                        NoncurrentDays=NONCURRENT_DAYS
                    ),
                ),
                # S3 refuses ExpiredObjectDeleteMarker next to ExpirationInDays.
                s3.LifecycleRule(
                    Id=LIFECYCLE_TEMP_MARKERS_RULE_ID,
                    Status="Enabled",
                    Prefix=Ref(parameters["TempPath"]),
                    ExpiredObjectDeleteMarker=True,
                ),
                s3.LifecycleRule(
                    Id=LIFECYCLE_MULTIPART_RULE_ID,
                    Status="Enabled",
                    AbortIncompleteMultipartUpload=s3.AbortIncompleteMultipartUpload(
                        DaysAfterInitiation=1
                    ),
                ),
            ]
        ),
        NotificationConfiguration=s3.NotificationConfiguration(
            LambdaConfigurations=[
                s3.LambdaConfigurations(
                    Event="s3:ObjectCreated:*",
                    Function=GetAtt(FUNCTION, "Arn"),
                    Filter=s3.Filter(
                        S3Key=s3.S3Key(
                            Rules=[s3.Rules(Name="prefix", Value=Ref(parameters["TempPath"]))]
                        )
                    ),
                )
            ]
        ),
        Tags=Tags({TAG_KEY: config.stack_name}),
        **optional,
    )


def _role(parameters: dict[str, Parameter]) -> iam.Role:
    """Least privilege: sources read/deleted, outputs written, manifests/claims read, logs, DLQ."""
    bucket = "arn:${AWS::Partition}:s3:::${BucketName}"
    return iam.Role(
        ROLE,
        AssumeRolePolicyDocument={
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Service": "lambda.amazonaws.com"},
                    "Action": "sts:AssumeRole",
                    "Condition": {"StringEquals": {"aws:SourceAccount": AccountId}},
                }
            ],
        },
        Policies=[
            iam.Policy(
                PolicyName="thumbnails",
                PolicyDocument={
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Sid": "ReadAndDeleteUploadedSources",
                            "Effect": "Allow",
                            "Action": ["s3:GetObject", "s3:DeleteObject"],
                            "Resource": Sub(f"{bucket}/${{TempPath}}*"),
                        },
                        {
                            "Sid": "WriteGeneratedImages",
                            "Effect": "Allow",
                            "Action": "s3:PutObject",
                            "Resource": Sub(f"{bucket}/${{ImagePath}}*"),
                        },
                        {
                            # Every event first looks for the manifest of an earlier run
                            # (duplicate or late delivery) and then just resends its callback.
                            "Sid": "ReadOwnManifests",
                            "Effect": "Allow",
                            "Action": "s3:GetObject",
                            "Resource": Sub(f"{bucket}/${{ImagePath}}*/manifest.json"),
                        },
                        {
                            # One processing per key: a run that loses the conditional PUT
                            # of claim.json reads whose claim it is (and how old).
                            "Sid": "ReadOwnClaims",
                            "Effect": "Allow",
                            "Action": "s3:GetObject",
                            "Resource": Sub(f"{bucket}/${{ImagePath}}*/claim.json"),
                        },
                        {
                            # Without ListBucket, S3 answers 403 instead of 404 for a missing
                            # key, and the handler could not tell "no manifest yet" or "source
                            # already processed and deleted" from a real permission fault.
                            "Sid": "TellMissingKeysFromForbiddenOnes",
                            "Effect": "Allow",
                            "Action": "s3:ListBucket",
                            "Resource": Sub(bucket),
                        },
                        {
                            "Sid": "ReadCallbackSecret",
                            "Effect": "Allow",
                            "Action": "secretsmanager:GetSecretValue",
                            "Resource": Ref("CallbackSecretArn"),
                        },
                        {
                            "Sid": "WriteOwnLogs",
                            "Effect": "Allow",
                            "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                            "Resource": GetAtt(LOG_GROUP, "Arn"),
                        },
                        {
                            "Sid": "ParkFailedEvents",
                            "Effect": "Allow",
                            "Action": "sqs:SendMessage",
                            "Resource": GetAtt(DLQ, "Arn"),
                        },
                    ],
                },
            )
        ],
    )


def _xray_statement() -> dict[str, Any]:
    # X-Ray has no resource-level permissions: these two actions only take "*".
    return {
        "Sid": "SendTraces",
        "Effect": "Allow",
        "Action": ["xray:PutTraceSegments", "xray:PutTelemetryRecords"],
        "Resource": "*",
    }


def _alarms(config: StackConfig) -> list[Any]:
    """Alarms on parked events, errors and throttles; e-mailed when --alarm-email is set."""
    resources: list[Any] = []
    actions: dict[str, Any] = {}
    if config.alarm_email:
        resources.append(
            sns.Topic(
                ALARM_TOPIC,
                DisplayName=f"{config.stack_name} thumbnail alarms",
                Metadata=_skip(
                    (
                        "CKV_AWS_26",
                        "CloudWatch cannot publish to a topic encrypted with the AWS-managed "
                        "SNS key, and the alarm messages hold only metric names and counts.",
                    )
                ),
                Tags=Tags({TAG_KEY: config.stack_name}),
            )
        )
        resources.append(
            sns.SubscriptionResource(
                ALARM_SUBSCRIPTION,
                TopicArn=Ref(ALARM_TOPIC),
                Protocol="email",
                Endpoint=config.alarm_email,
            )
        )
        actions = {"AlarmActions": [Ref(ALARM_TOPIC)], "OKActions": [Ref(ALARM_TOPIC)]}
    function_dimension = [cloudwatch.MetricDimension(Name="FunctionName", Value=Ref(FUNCTION))]
    resources.append(
        cloudwatch.Alarm(
            DLQ_ALARM,
            AlarmDescription="Events the thumbnail Lambda gave up on are waiting in the "
            "dead-letter queue: replay them (manage.py replay_dead_letters) or reconcile.",
            Namespace="AWS/SQS",
            MetricName="ApproximateNumberOfMessagesVisible",
            Dimensions=[
                cloudwatch.MetricDimension(Name="QueueName", Value=GetAtt(DLQ, "QueueName"))
            ],
            Statistic="Maximum",
            Period=300,
            EvaluationPeriods=1,
            Threshold=0,
            ComparisonOperator="GreaterThanThreshold",
            TreatMissingData="notBreaching",
            **actions,
        )
    )
    for logical_id, metric, what in (
        (ERRORS_ALARM, "Errors", "failed invocations (retried, then parked in the queue)"),
        (THROTTLES_ALARM, "Throttles", "throttled invocations (concurrency limit reached)"),
    ):
        resources.append(
            cloudwatch.Alarm(
                logical_id,
                AlarmDescription=f"The thumbnail Lambda had {what}.",
                Namespace="AWS/Lambda",
                MetricName=metric,
                Dimensions=function_dimension,
                Statistic="Sum",
                Period=300,
                EvaluationPeriods=1,
                Threshold=0,
                ComparisonOperator="GreaterThanThreshold",
                TreatMissingData="notBreaching",
                **actions,
            )
        )
    return resources


def _function(config: StackConfig, parameters: dict[str, Parameter]) -> awslambda.Function:
    reserved = (
        {"ReservedConcurrentExecutions": config.reserved_concurrency}
        if config.reserved_concurrency
        else {}
    )
    skips = [
        (
            "CKV_AWS_116",
            "Failed asynchronous invocations go to the encrypted SQS queue through the "
            "EventInvokeConfig on-failure destination, which records more context than a DLQ.",
        ),
        (
            "CKV_AWS_117",
            "The function only talks to S3 and to the public callback URL; a VPC would "
            "need a NAT gateway for no isolation gain.",
        ),
        (
            "CKV_AWS_173",
            "Lambda encrypts environment variables at rest with an AWS-managed key; they "
            "hold no secret (the callback secret is read from Secrets Manager by ARN).",
        ),
    ]
    if not config.tracing:
        skips.append(
            (
                "CKV_AWS_50",
                "X-Ray tracing is opt-in (--tracing): it bills per trace and the handler's "
                "JSON log lines already time each step.",
            )
        )
    if not config.reserved_concurrency:
        skips.append(
            (
                "CKV_AWS_115",
                "Reserved concurrency is opt-in (--reserved-concurrency): reserving it "
                "takes capacity from every other function in the account.",
            )
        )
    return awslambda.Function(
        FUNCTION,
        FunctionName=Ref(parameters["FunctionName"]),
        Description="Makes thumbnails and blurred placeholders for django-async-image-upload",
        Handler=HANDLER,
        Runtime=Ref(parameters["Runtime"]),
        Architectures=[Ref(parameters["Architecture"])],
        MemorySize=Ref(parameters["MemorySize"]),
        Timeout=Ref(parameters["Timeout"]),
        Role=GetAtt(ROLE, "Arn"),
        Code=awslambda.Code(
            S3Bucket=Ref(parameters["CodeBucket"]), S3Key=Ref(parameters["CodeKey"])
        ),
        Environment=awslambda.Environment(
            Variables=lambda_environment(
                config,
                callback_secret_arn=Ref(parameters["CallbackSecretArn"]),
                callback_secret_version=Ref(parameters["CallbackSecretVersion"]),
            )
        ),
        # The handler writes one JSON object per line; JSON format keeps Lambda's own
        # platform lines JSON too, so Logs Insights queries one shape.
        LoggingConfig=_LoggingConfig(LogGroup=Ref(LOG_GROUP), LogFormat="JSON"),
        TracingConfig=awslambda.TracingConfig(Mode="Active" if config.tracing else "PassThrough"),
        Metadata=_skip(*skips),
        Tags=Tags({TAG_KEY: config.stack_name}),
        **reserved,
    )


def build_template(config: StackConfig) -> Template:
    """Return the stack for ``config``; pure, so it can be linted and diffed offline."""
    template = Template(
        Description=(
            "django-async-image-upload thumbnail stack "
            f"({'new' if config.is_new_bucket else 'existing'} bucket)"
        )
    )
    template.set_metadata(
        {"AsyncImageUpload": {"BucketMode": config.bucket_mode, **config.settings_summary}}
    )
    parameters = _parameters(template, config)

    template.add_resource(
        logs.LogGroup(
            LOG_GROUP,
            LogGroupName=Sub("/aws/lambda/${FunctionName}"),
            RetentionInDays=Ref(parameters["LogRetentionDays"]),
            DeletionPolicy="Delete",
            UpdateReplacePolicy="Delete",
            Metadata=_skip(
                (
                    "CKV_AWS_158",
                    "Logs hold upload ids and error codes, no image data or secrets; "
                    "CloudWatch encrypts them at rest with an AWS-managed key.",
                ),
                (
                    "CKV_AWS_338",
                    "Retention is a parameter (default 30 days): a year of per-image "
                    "logs costs more than it tells.",
                ),
            ),
        )
    )
    template.add_resource(
        sqs.Queue(
            DLQ,
            SqsManagedSseEnabled=True,
            MessageRetentionPeriod=DLQ_RETENTION_SECONDS,
            DeletionPolicy="Delete",
            UpdateReplacePolicy="Delete",
            Metadata=_skip(
                (
                    "CKV_AWS_27",
                    "Encrypted at rest with SSE-SQS (SqsManagedSseEnabled); the check only "
                    "recognises KMS keys, which would add key policy and per-request costs.",
                )
            ),
            Tags=Tags({TAG_KEY: config.stack_name}),
        )
    )
    role = _role(parameters)
    if config.tracing:
        role.Policies[0].PolicyDocument["Statement"].append(_xray_statement())
    template.add_resource(role)
    template.add_resource(_function(config, parameters))
    template.add_resource(
        awslambda.EventInvokeConfig(
            INVOKE_CONFIG,
            FunctionName=Ref(FUNCTION),
            Qualifier="$LATEST",
            MaximumRetryAttempts=config.max_retry_attempts,
            MaximumEventAgeInSeconds=config.max_event_age_seconds,
            DestinationConfig=awslambda.DestinationConfig(
                OnFailure=awslambda.OnFailure(Destination=GetAtt(DLQ, "Arn"))
            ),
        )
    )
    template.add_resource(
        awslambda.Permission(
            PERMISSION,
            Action="lambda:InvokeFunction",
            FunctionName=GetAtt(FUNCTION, "Arn"),
            Principal="s3.amazonaws.com",
            SourceAccount=AccountId,
            SourceArn=Sub("arn:${AWS::Partition}:s3:::${BucketName}"),
        )
    )
    template.add_resource(
        sqs.QueuePolicy(
            DLQ_POLICY,
            Queues=[Ref(DLQ)],
            PolicyDocument={
                "Version": "2012-10-17",
                "Statement": [tls_only_statement(GetAtt(DLQ, "Arn"), service="sqs")],
            },
        )
    )
    if config.cdn:
        for resource in cdn_resources(config):
            template.add_resource(resource)
    if config.is_new_bucket:
        template.add_resource(_bucket(config, parameters))
        statements = [
            bucket_tls_statement(
                Sub("arn:${AWS::Partition}:s3:::${BucketName}"),
                Sub("arn:${AWS::Partition}:s3:::${BucketName}/*"),
            )
        ]
        if config.cdn:
            statements.append(template_read_statement())
        template.add_resource(
            s3.BucketPolicy(
                BUCKET_POLICY,
                Bucket=Ref(BUCKET),
                PolicyDocument={"Version": "2012-10-17", "Statement": statements},
            )
        )
    for resource in _alarms(config):
        template.add_resource(resource)

    template.add_output(
        [
            Output("BucketName", Value=Ref(parameters["BucketName"]), Description="Upload bucket"),
            Output("FunctionArn", Value=GetAtt(FUNCTION, "Arn"), Description="Thumbnail Lambda"),
            Output("FunctionName", Value=Ref(FUNCTION), Description="Thumbnail Lambda name"),
            Output(
                "DeadLetterQueueUrl",
                Value=Ref(DLQ),
                Description="Events the Lambda gave up on (see the reconcile command)",
            ),
            Output("LogGroupName", Value=Ref(LOG_GROUP), Description="The function's logs"),
            Output("Region", Value=Region, Description="Region the stack lives in"),
        ]
    )
    if config.cdn:
        template.add_output(cdn_outputs(config))
    return template


def template_body(template: Template, fmt: str = "json") -> str:
    """Serialise ``template`` as ``"json"`` or ``"yaml"`` (stable key order)."""
    if fmt == "yaml":
        return template.to_yaml(clean_up=True, long_form=False)
    return template.to_json(indent=2, sort_keys=True)
