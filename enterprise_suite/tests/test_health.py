"""/healthz, /readyz and /metrics."""

from __future__ import annotations

import pytest
from django.test import Client
from pytest_django.fixtures import Settings as SettingsWrapper

pytestmark = pytest.mark.django_db


def test_healthz(client: Client) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readyz_ok_when_everything_answers(client: Client) -> None:
    response = client.get("/readyz")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "ok" and body["failed"] == []
    assert body["checks"]["database"] == "ok"


@pytest.mark.services
def test_readyz_names_redis_and_broker_when_down(client: Client, settings: SettingsWrapper) -> None:
    from enterprise_suite.celery import app

    dead = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    settings.REDIS_URL = dead
    settings.CELERY_TASK_ALWAYS_EAGER = False
    original = app.conf.broker_url
    app.conf.broker_url = dead
    try:
        response = client.get("/readyz")
    finally:
        app.conf.broker_url = original
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["failed"] == ["redis", "broker"]
    assert body["checks"]["database"] == "ok"
    assert "error" in body["checks"]["redis"]


def test_metrics_exposes_prometheus_text(client: Client) -> None:
    client.get("/healthz")
    response = client.get("/metrics")
    assert response.status_code == 200
    assert b"django_http_requests_total_by_view_transport_method_total" in response.content


@pytest.mark.services
def test_readyz_reuses_the_process_redis_connection(
    client: Client, settings: SettingsWrapper
) -> None:
    from enterprise_suite.redis_client import shared_redis

    settings.CELERY_TASK_ALWAYS_EAGER = True  # the broker check is its own connection
    assert client.get("/readyz").status_code == 200
    before = shared_redis().info("stats")["total_connections_received"]
    for _ in range(20):
        assert client.get("/readyz").status_code == 200
    after = shared_redis().info("stats")["total_connections_received"]
    assert after - before <= 1  # was one new connection per probe
