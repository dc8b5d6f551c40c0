"""Django settings for the load benchmark: the test settings on PostgreSQL, tuned like production.

Persistent database connections (as any production deployment has) and rate
limits out of the way of a benchmark that is one user hammering its own server.
"""

from __future__ import annotations

import os

import dj_database_url

from tests.settings import *  # noqa: F403
from tests.settings import ASYNC_IMAGE_UPLOAD as _TEST_UPLOAD_SETTINGS

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/aiu_load"),
        conn_max_age=60,
    )
}
ROOT_URLCONF = "benchmarks.load.urls"
ASYNC_IMAGE_UPLOAD = {
    **_TEST_UPLOAD_SETTINGS,
    "MAX_PENDING_PER_USER": 1_000_000,
    # Throttling stays on (it is part of what the endpoint costs), with a one-second
    # window: DRF keeps one timestamp per request in the window, and a minute of a
    # single user's benchmark traffic (~25,000 timestamps, re-pickled by the cache on
    # every request) would measure the benchmark, not the endpoint.
    "THROTTLE_RATE": "100000/second",
    "STATUS_THROTTLE_RATE": "100000/second",
}
