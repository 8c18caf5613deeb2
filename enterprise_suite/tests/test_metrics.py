"""Business metrics move when the outcome really happens, and only then; /metrics exports them."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families

from conftest import Caller, MakeCaller
from distribution.choices import DeliveryStatus, TransportKind
from distribution.models import Asset, Delivery, Release, Store
from distribution.services.acknowledgements import delivery_acknowledge
from distribution.tests.media_files import make_jpeg, make_wav
from distribution.tests.workflow_fixtures import submittable_release
from enterprise_suite import metrics
from enterprise_suite.tests.metric_names import exposed_names
from realtime.events import publish
from realtime.models import WebhookDelivery, WebhookDeliveryStatus
from realtime.webhooks import webhook_delivery_send, webhook_endpoint_create

pytestmark = pytest.mark.django_db


def _value(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def _real_files(release: Release) -> None:
    for asset in Asset.objects.filter(release=release) | Asset.objects.filter(
        track__release=release
    ):
        data = make_jpeg(3000, 3000) if asset.kind == "artwork" else make_wav(seconds=0.5)
        asset.file.name = default_storage.save(f"assets/test/{asset.pk}", ContentFile(data))
        asset.size_bytes = len(data)
        asset.save()


def test_a_delivery_counts_its_statuses_duration_and_acknowledgement_latency(
    make_caller: MakeCaller,
    ddex_schema_dir: Path,
    settings: Any,
    tmp_path: Path,
    django_capture_on_commit_callbacks: Any,
) -> None:
    settings.STORE_DROP_ROOT = str(tmp_path / "stores")
    code = f"m{uuid.uuid4().hex[:8]}"  # a store of its own: counters are process-wide
    Store.objects.create(
        code=code, name="Metric", dpid="PADPIDA0000000001X", transport=TransportKind.FILESYSTEM
    )
    caller: Caller = make_caller(role="owner")
    release = submittable_release(caller.organization, tracks=1)
    _real_files(release)
    url = f"/api/v1/releases/{release.pk}"
    assert caller.client.put(f"{url}/stores/", {"stores": [code]}, format="json").status_code == 200
    assert caller.client.post(f"{url}/submit/").status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        assert caller.client.post(f"{url}/approve/", {}, format="json").status_code == 200

    delivery = Delivery.objects.get(release=release)
    assert delivery.status == DeliveryStatus.DELIVERED
    for status in ("queued", "packaging", "uploading", "delivered"):
        assert _value("es_deliveries_total", store=code, status=status) == 1, status
    assert _value("es_delivery_duration_seconds_count", store=code) == 1

    with django_capture_on_commit_callbacks(execute=True):
        delivery_acknowledge(
            store=delivery.store, message_id=delivery.message_id, accepted=True, text=""
        )
    assert _value("es_deliveries_total", store=code, status="acknowledged") == 1
    assert _value("es_acknowledgement_latency_seconds_count", store=code, outcome="accepted") == 1
    # A repeated acknowledgement changes nothing, and counts nothing.
    with django_capture_on_commit_callbacks(execute=True):
        delivery_acknowledge(
            store=delivery.store, message_id=delivery.message_id, accepted=True, text=""
        )
    assert _value("es_deliveries_total", store=code, status="acknowledged") == 1


def test_an_event_counts_once_committed_and_not_when_rolled_back(
    make_caller: MakeCaller, django_capture_on_commit_callbacks: Any
) -> None:
    caller = make_caller()
    kind = f"metric.test_{uuid.uuid4().hex[:6]}"

    def emit() -> None:
        publish(
            organization_id=caller.organization.pk,
            type=kind,
            subject_type="organization",
            subject_id=caller.organization.pk,
        )

    class Abort(Exception):
        pass

    with (  # noqa: PT012
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(Abort),
        transaction.atomic(),
    ):
        emit()
        raise Abort
    assert _value("es_events_published_total", type=kind) == 0
    with django_capture_on_commit_callbacks(execute=True):
        emit()
    assert _value("es_events_published_total", type=kind) == 1


def test_failed_webhook_attempts_and_abandoned_deliveries_count(
    make_caller: MakeCaller, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    settings.WEBHOOK_ALLOW_PRIVATE_NETWORKS = True
    settings.WEBHOOK_MAX_ATTEMPTS = 1
    caller = make_caller()
    webhook_endpoint_create(
        organization_id=caller.organization.pk,
        url="http://127.0.0.1:1/hook",  # nothing listens on port 1
        event_types=["metric.webhook"],
    )
    with django_capture_on_commit_callbacks(execute=False):
        publish(
            organization_id=caller.organization.pk,
            type="metric.webhook",
            subject_type="organization",
            subject_id=caller.organization.pk,
        )
    delivery = WebhookDelivery.objects.get(event__type="metric.webhook")
    failed, abandoned = (
        _value("es_webhook_attempts_total", outcome="failed"),
        _value("es_webhook_deliveries_abandoned_total"),
    )
    sent = webhook_delivery_send(delivery_id=str(delivery.pk))
    assert sent is not None
    assert sent.status == WebhookDeliveryStatus.FAILED
    assert _value("es_webhook_attempts_total", outcome="failed") == failed + 1
    assert _value("es_webhook_deliveries_abandoned_total") == abandoned + 1


@pytest.mark.django_db
def test_royalties_import_lines_count_only_once_the_import_commits(
    django_capture_on_commit_callbacks: Any, tmp_path: Path
) -> None:
    from accounts.tests.factories import OrganizationFactory
    from royalties.services.reports import sales_report_import, sales_report_upload_path_file

    organization = OrganizationFactory()

    def imported(name: str, lines: int, *, commits: bool) -> None:
        rows = [f"spotify,2026-03,DE,USXYZ26{n:05d},,stream,3,1,0.25,EUR" for n in range(lines)]
        path = tmp_path / name
        path.write_text(
            "store,period,territory,isrc,upc,usage_type,quantity,gross,net,currency\n"
            + "\n".join(rows)
            + "\n"
        )
        report = sales_report_upload_path_file(
            organization=organization, path=path, store_code="spotify", enqueue=False
        )
        with django_capture_on_commit_callbacks(execute=commits):
            sales_report_import(report_id=report.pk)

    def loaded() -> float:
        return _value("royalties_import_lines_total", layout="canonical", outcome="loaded")

    before = loaded()
    imported("rolled-back.csv", 3, commits=False)  # its transaction never commits
    assert loaded() == before
    imported("committed.csv", 2, commits=True)
    assert loaded() == before + 2


def test_readyz_sets_the_readiness_gauge(client: Any, settings: Any) -> None:
    assert client.get("/readyz").status_code in (200, 503)
    assert _value("es_readiness_check_ok", check="database") == 1


def test_metrics_endpoint_exports_every_business_metric(client: Any) -> None:
    body = client.get("/metrics").content.decode()
    exposed = exposed_names(text_string_to_metric_families(body))
    assert exposed >= metrics.EXPORTED_METRICS, metrics.EXPORTED_METRICS - exposed


@pytest.mark.services
def test_queue_depth_is_read_from_the_broker_and_published_to_cloudwatch(
    monkeypatch: pytest.MonkeyPatch, settings: Any
) -> None:
    import boto3
    from moto import mock_aws

    from enterprise_suite.celery import app

    app.conf.task_always_eager = False  # the autouse fixture restores it
    settings.CELERY_TASK_ALWAYS_EAGER = False
    queue = f"depth-{uuid.uuid4().hex[:8]}"
    for _ in range(3):
        app.send_task("enterprise_suite.ping", queue=queue)
    try:
        assert metrics.queue_depths([queue]) == {queue: 3}
        assert metrics.queue_depths([f"{queue}-never-declared"]) == {f"{queue}-never-declared": 0}
        monkeypatch.setenv("CELERY_MONITORED_QUEUES", queue)
        monkeypatch.setenv("CLOUDWATCH_METRICS_NAMESPACE", "EnterpriseSuite")
        monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
        monkeypatch.setenv("APP_ENV", "test")
        with mock_aws():
            assert metrics.queue_backlog_publish() == {queue: 3}
            cloudwatch = boto3.client("cloudwatch", region_name="eu-west-1")
            listed = cloudwatch.list_metrics(Namespace="EnterpriseSuite")["Metrics"]
        assert [m["MetricName"] for m in listed] == ["CeleryQueueDepth"]
        dimensions = {d["Name"]: d["Value"] for d in listed[0]["Dimensions"]}
        assert dimensions == {"Environment": "test", "Queue": queue}
        assert _value("es_celery_queue_depth", queue=queue) == 3  # what Prometheus scrapes
    finally:
        with app.connection_for_write() as connection:
            connection.default_channel.queue_purge(queue)


@pytest.mark.services
def test_an_unreachable_broker_is_no_sample_not_an_empty_queue(settings: Any) -> None:
    """Reporting 0 would tell the autoscaler the backlog is gone and shrink the workers."""
    from enterprise_suite.celery import app

    app.conf.task_always_eager = False  # the autouse fixture restores it
    settings.CELERY_TASK_ALWAYS_EAGER = False
    broker = app.conf.broker_url
    app.conf.broker_url = "redis://127.0.0.1:1/0"
    try:
        with pytest.raises(Exception, match=r"(?i)connect|refused"):
            metrics.queue_depths(["default"])
        samples = [
            sample
            for family in metrics.QueueDepthCollector().collect()
            for sample in family.samples
        ]
        assert samples == []
    finally:
        app.conf.broker_url = broker
