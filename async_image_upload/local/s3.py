"""An embedded S3 (moto's server) wired the way the deployed stack wires AWS."""

from __future__ import annotations

import json
import logging
import os
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from async_image_upload.local.persistence import BucketSnapshot

#: Credentials for the embedded server only; they never leave this machine.
LOCAL_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "local-stack",
    "AWS_SECRET_ACCESS_KEY": "local-stack-secret",
    "AWS_DEFAULT_REGION": "us-east-1",
}
QUEUE_NAME = "async-image-upload-events"


def port_is_free(host: str, port: int) -> bool:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
        return True


@dataclass
class LocalS3:
    """The running server, its bucket, the queue S3 notifies, and its on-disk snapshot."""

    endpoint_url: str
    bucket: str
    queue_url: str
    server: Any
    snapshot: BucketSnapshot | None = None
    restored: int = 0

    def client(self, service: str) -> Any:
        import boto3
        from botocore.config import Config

        return boto3.client(
            service,
            endpoint_url=self.endpoint_url,
            region_name="us-east-1",
            config=Config(signature_version="s3v4", retries={"max_attempts": 2}),
        )

    def save(self) -> None:
        """Mirror the bucket to its snapshot folder, if it has one."""
        if self.snapshot is not None:
            self.snapshot.save()

    def stop(self) -> None:
        try:
            self.save()
        finally:
            self.server.stop()


def use_local_credentials() -> None:
    """Point boto3 at the embedded server's fake credentials, whatever the profile says."""
    os.environ.update(LOCAL_CREDENTIALS)
    os.environ.pop("AWS_SESSION_TOKEN", None)
    os.environ.pop("AWS_PROFILE", None)


def start_local_s3(
    *,
    host: str,
    port: int,
    bucket: str,
    temp_prefix: str,
    cors_origins: list[str],
    state_dir: Path | None = None,
) -> LocalS3:
    """Start moto's server, then create the bucket, CORS, queue and notification.

    With ``state_dir`` the bucket's objects saved there are put back first, before
    the notification exists (so nothing restored is processed again), and are
    mirrored there again as events are processed and on stop.
    """
    from moto.server import ThreadedMotoServer

    use_local_credentials()
    # moto's server logs every request; the dev server's own log is enough.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server = ThreadedMotoServer(ip_address=host, port=port, verbose=False)
    server.start()
    endpoint = f"http://{host}:{port}"
    local = LocalS3(endpoint_url=endpoint, bucket=bucket, queue_url="", server=server)
    try:
        s3, sqs = local.client("s3"), local.client("sqs")
        s3.create_bucket(Bucket=bucket)
        if state_dir is not None:
            local.snapshot = BucketSnapshot(state_dir, s3, bucket)
            local.restored = local.snapshot.restore()
        s3.put_bucket_cors(
            Bucket=bucket,
            CORSConfiguration={
                "CORSRules": [
                    {
                        "AllowedMethods": ["POST", "GET", "HEAD"],
                        "AllowedOrigins": cors_origins,
                        "AllowedHeaders": ["*"],
                        "ExposeHeaders": ["ETag"],
                        "MaxAgeSeconds": 3600,
                    }
                ]
            },
        )
        queue_url = sqs.create_queue(QueueName=QUEUE_NAME, Attributes={"VisibilityTimeout": "30"})[
            "QueueUrl"
        ]
        queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        s3.put_bucket_notification_configuration(
            Bucket=bucket,
            NotificationConfiguration={
                "QueueConfigurations": [
                    {
                        "Id": "async-image-upload",
                        "QueueArn": queue_arn,
                        "Events": ["s3:ObjectCreated:*"],
                        "Filter": {
                            "Key": {"FilterRules": [{"Name": "prefix", "Value": temp_prefix}]}
                        },
                    }
                ]
            },
        )
        local.queue_url = queue_url
    except Exception:
        server.stop()
        raise
    return local


def decode_event(message_body: str) -> dict[str, Any]:
    """The S3 event inside a queue message (S3 puts the event JSON as the body)."""
    return json.loads(message_body)
