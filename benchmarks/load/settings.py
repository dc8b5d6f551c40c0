"""Django settings for the load benchmark: the test settings on PostgreSQL, tuned like production.

Persistent database connections, as any production deployment has. The app's
own settings stay at their defaults (pending cap 20, 120 uploads a minute per
user): the throughput clients spread their requests over enough users that a
real deployment's limits never refuse them, so what is measured is what those
limits cost, not what a single user with thousands of pending uploads costs.
"""

from __future__ import annotations

import os

import dj_database_url

from tests.settings import *  # noqa: F403

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/aiu_load"),
        # Persistent for the whole run, so the server processes whose CPU time
        # is counted stay the same ones.
        conn_max_age=None,
    )
}
ROOT_URLCONF = "benchmarks.load.urls"
# The throttles' counters. The test settings keep them in each gunicorn worker's
# memory; `--cache-url redis://…` puts them where a production deployment keeps
# them, one network round trip away and shared by the workers.
if os.environ.get("BENCHMARK_CACHE_URL"):
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": os.environ["BENCHMARK_CACHE_URL"],
        }
    }
