"""A real Celery worker consumes tasks sent through the Redis broker."""

from __future__ import annotations

import pytest

from conftest import RunningProcess
from enterprise_suite.tasks import ping

pytestmark = [pytest.mark.services, pytest.mark.slow]


def test_worker_runs_a_task_sent_through_the_broker(celery_worker_process: RunningProcess) -> None:
    result = ping.apply_async(queue=celery_worker_process.queue)
    assert result.get(timeout=30) == "pong"
    assert "enterprise_suite.ping" in celery_worker_process.log()


def test_readyz_sees_the_broker(client) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/readyz")
    assert response.json()["checks"]["broker"] == "ok"
