"""Business metrics, next to django-prometheus's request, database and cache metrics.

Services call the small functions here where the outcome happens, after the transaction that
records it commits, so a rolled-back change never counts. Every name is listed in
`EXPORTED_METRICS`; the Grafana dashboards and Prometheus alert rules may use only those (and
django-prometheus's), which a test checks.

Where they are scraped: the web role serves `/metrics` (one process per container). A worker
role runs several processes (Celery prefork), so the entrypoint gives it a
`PROMETHEUS_MULTIPROC_DIR` and its main process serves the children's aggregated metrics on
`WORKER_METRICS_PORT` (`serve_worker_metrics`). Queue depth is read from the broker when
Prometheus scrapes, and published to CloudWatch for autoscaling by a scheduled job.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterable, Iterator
from typing import Any, cast

import structlog
from django.conf import settings
from django.db import transaction
from kombu.exceptions import ChannelError
from prometheus_client import REGISTRY, CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

logger = structlog.get_logger(__name__)

# Buckets in seconds: a delivery (package, validate, upload) takes seconds to minutes; a store
# acknowledges in minutes to days.
DELIVERY_BUCKETS = (0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800)
ACK_BUCKETS = (60, 300, 900, 1800, 3600, 3 * 3600, 6 * 3600, 12 * 3600, 86400, 3 * 86400)

DELIVERIES = Counter(
    "es_deliveries",
    "Deliveries entering a status, by store.",
    ["store", "status"],
)
DELIVERY_DURATION = Histogram(
    "es_delivery_duration_seconds",
    "From the start of a delivery attempt to the batch being on the store's transport.",
    ["store"],
    buckets=DELIVERY_BUCKETS,
)
ACK_LATENCY = Histogram(
    "es_acknowledgement_latency_seconds",
    "From a delivery reaching the store to the store's acknowledgement.",
    ["store", "outcome"],
    buckets=ACK_BUCKETS,
)
WEBHOOK_ATTEMPTS = Counter(
    "es_webhook_attempts",
    "Outbound webhook attempts, by outcome (succeeded, failed).",
    ["outcome"],
)
WEBHOOK_ABANDONED = Counter(
    "es_webhook_deliveries_abandoned",
    "Outbound webhook deliveries given up after the last attempt.",
)
EVENTS_PUBLISHED = Counter(
    "es_events_published",
    "Events committed to the outbox, by type.",
    ["type"],
)
WEBSOCKET_CLIENTS = Gauge(
    "es_websocket_clients",
    "WebSocket clients connected to the event stream.",
    multiprocess_mode="livesum",
)
READINESS = Gauge(
    "es_readiness_check_ok",
    "1 when the dependency answered the last /readyz probe, 0 when it failed.",
    ["check"],
    multiprocess_mode="liveall",
)
# Defined here so it exists before the royalties importer (another app) counts into it.
ROYALTIES_IMPORT_LINES = Counter(
    "royalties_import_lines",
    "Sales report lines imported, by report layout and outcome (matched, unmatched, error).",
    ["layout", "outcome"],
)
QUEUE_DEPTH_NAME = "es_celery_queue_depth"

# Names as Prometheus exposes them (counters gain _total; histograms _bucket, _sum, _count).
EXPORTED_METRICS = frozenset(
    {
        "es_deliveries_total",
        "es_delivery_duration_seconds_bucket",
        "es_delivery_duration_seconds_sum",
        "es_delivery_duration_seconds_count",
        "es_acknowledgement_latency_seconds_bucket",
        "es_acknowledgement_latency_seconds_sum",
        "es_acknowledgement_latency_seconds_count",
        "es_webhook_attempts_total",
        "es_webhook_deliveries_abandoned_total",
        "es_events_published_total",
        "es_websocket_clients",
        "es_readiness_check_ok",
        "royalties_import_lines_total",
        QUEUE_DEPTH_NAME,
    }
)


def _after_commit(action: Any) -> None:
    transaction.on_commit(action)


def _seconds_between(start: dt.datetime | None, end: dt.datetime | None) -> float | None:
    if start is None or end is None:
        return None
    return max((end - start).total_seconds(), 0.0)


def delivery_status_changed(*, store: str, status: str, count: int = 1) -> None:
    _after_commit(lambda: DELIVERIES.labels(store=store, status=status).inc(count))


def delivery_finished(*, store: str, started: dt.datetime, finished: dt.datetime) -> None:
    seconds = _seconds_between(started, finished)
    if seconds is not None:
        _after_commit(lambda: DELIVERY_DURATION.labels(store=store).observe(seconds))


def delivery_acknowledged(
    *, store: str, accepted: bool, delivered_at: dt.datetime | None, acknowledged_at: dt.datetime
) -> None:
    seconds = _seconds_between(delivered_at, acknowledged_at)
    if seconds is not None:
        outcome = "accepted" if accepted else "rejected"
        _after_commit(lambda: ACK_LATENCY.labels(store=store, outcome=outcome).observe(seconds))


def webhook_attempted(*, succeeded: bool, abandoned: bool) -> None:
    WEBHOOK_ATTEMPTS.labels(outcome="succeeded" if succeeded else "failed").inc()
    if abandoned:
        WEBHOOK_ABANDONED.inc()


def event_published(*, type: str) -> None:
    """Count a committed event (called from the event's own after-commit fan-out)."""
    EVENTS_PUBLISHED.labels(type=type).inc()


def readiness_checked(*, check: str, ok: bool) -> None:
    READINESS.labels(check=check).set(1 if ok else 0)


def royalties_lines_imported(*, layout: str, outcome: str, count: int = 1) -> None:
    # Inside the import's transaction: a rolled-back (and rerun) import must not count twice.
    _after_commit(lambda: ROYALTIES_IMPORT_LINES.labels(layout=layout, outcome=outcome).inc(count))


# --- Celery queue depth ------------------------------------------------------------------------


def monitored_queues() -> list[str]:
    configured = os.environ.get("CELERY_MONITORED_QUEUES", "")
    queues = [q.strip() for q in configured.split(",") if q.strip()]
    return queues or [settings.CELERY_TASK_DEFAULT_QUEUE]


def queue_depths(queues: Iterable[str] | None = None) -> dict[str, int]:
    """Messages waiting in each queue (not counting those a worker holds unacknowledged)."""
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return {}
    from enterprise_suite.celery import app

    depths: dict[str, int] = {}
    with app.connection_for_read() as connection, connection.channel() as channel:
        channel = cast(Any, channel)  # kombu's virtual channel; its stub lacks queue_declare
        for queue in queues if queues is not None else monitored_queues():
            try:
                _, depths[queue], _ = channel.queue_declare(queue=queue, passive=True)
            except ChannelError:  # a queue nobody declared yet (or an empty one) holds nothing
                depths[queue] = 0
    return depths


class QueueDepthCollector(Collector):
    """Reads the queues' depth from the broker when Prometheus scrapes."""

    def collect(self) -> Iterator[GaugeMetricFamily]:
        family = GaugeMetricFamily(
            QUEUE_DEPTH_NAME, "Messages waiting in a Celery queue.", labels=["queue"]
        )
        try:
            depths = queue_depths()
        except Exception as exc:  # an unreachable broker must not break the whole scrape
            logger.warning("queue_depth_unavailable", error=str(exc))
            depths = {}
        for queue, depth in sorted(depths.items()):
            family.add_metric([queue], depth)
        yield family


_queue_depth_collector: QueueDepthCollector | None = None


def register_queue_depth_collector(registry: CollectorRegistry = REGISTRY) -> None:
    global _queue_depth_collector
    if _queue_depth_collector is None:
        _queue_depth_collector = QueueDepthCollector()
        registry.register(_queue_depth_collector)


def queue_backlog_publish() -> dict[str, int]:
    """Publish each queue's depth to CloudWatch (the worker autoscaling metric), if configured.

    ECS scales workers on backlog per task: this metric divided by the service's running task
    count (metric math in the scaling policy, see deploy/ecs/).
    """
    depths = queue_depths()
    namespace = os.environ.get("CLOUDWATCH_METRICS_NAMESPACE", "")
    if namespace and depths:
        import boto3

        boto3.client("cloudwatch").put_metric_data(
            Namespace=namespace,
            MetricData=[
                {
                    "MetricName": "CeleryQueueDepth",
                    "Dimensions": [
                        {"Name": "Environment", "Value": os.environ.get("APP_ENV", "")},
                        {"Name": "Queue", "Value": queue},
                    ],
                    "Value": depth,
                    "Unit": "Count",
                }
                for queue, depth in depths.items()
            ],
        )
    logger.info("queue_depth", depths=depths, published_to=namespace or None)
    return depths


# --- worker metrics endpoint -------------------------------------------------------------------


def serve_worker_metrics(port: int) -> None:
    """Serve every worker process's metrics (prefork children included) on `port`."""
    from prometheus_client import start_http_server
    from prometheus_client.multiprocess import MultiProcessCollector

    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        MultiProcessCollector(registry)
    else:
        registry = REGISTRY
    start_http_server(port, registry=registry)
    logger.info("worker_metrics_serving", port=port)
