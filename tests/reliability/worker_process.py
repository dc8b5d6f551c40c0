"""One Lambda worker in its own process, so a test can SIGKILL it mid-upload.

``python -m tests.reliability.worker_process ENDPOINT BUCKET QUEUE_URL ENV_JSON``
"""

from __future__ import annotations

import json
import sys

from async_image_upload.local.s3 import LocalS3, use_local_credentials
from async_image_upload.local.worker import EventWorker


def main(argv: list[str]) -> None:
    endpoint, bucket, queue_url, environment = argv
    use_local_credentials()
    local = LocalS3(endpoint_url=endpoint, bucket=bucket, queue_url=queue_url, server=None)
    EventWorker(local, json.loads(environment)).run()


if __name__ == "__main__":
    main(sys.argv[1:])
