"""The CI-sized load run: 40 uploads from 5 concurrent clients through the local stack.

It asserts the invariants only — none lost, no signal twice, every upload
ready — never timings (CI machines vary). ``python -m benchmarks.load`` is the
full 500-upload run with latency and throughput, documented in
docs/performance.md.
"""

from __future__ import annotations

import pytest
from django.db import connection
from rest_framework.authtoken.models import Token

from benchmarks.load.flow import SignalLog, check, run_clients
from tests.reliability.conftest import jpeg_bytes
from tests.reliability.stack import wait_for

UPLOADS, CLIENTS = 40, 5


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_concurrent_uploads_none_lost_none_duplicated(
    live_server, make_stack, django_user_model
) -> None:
    if connection.vendor == "sqlite":
        pytest.skip("Concurrent clients need a database shared between threads (PostgreSQL).")
    stack = make_stack(f"{live_server.url}/uploads/callback/")
    stack.start_workers(2)
    tokens = [
        Token.objects.create(user=django_user_model.objects.create_user(f"load{i}")).key
        for i in range(CLIENTS)
    ]
    with SignalLog().connected() as signals:
        results, wall_s = run_clients(
            f"{live_server.url}/", tokens, jpeg_bytes(640, 480), UPLOADS, timeout_s=60
        )
        wait_for(lambda: stack.queued() == 0, 30, "the event queue to drain")
    report = check(results, signals, CLIENTS, wall_s)

    assert [r.error for r in results if r.error] == []
    assert report.uploads == UPLOADS
    assert report.lost == 0
    assert report.duplicated_signals == 0
    assert report.ready == UPLOADS
    assert sorted(signals.sent) == sorted((r.upload_id, "pending", "ready") for r in results)
