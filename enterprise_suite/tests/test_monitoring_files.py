"""The Grafana dashboards and Prometheus alert rules parse and use only metrics the app exports.

promtool checks the PromQL syntax in CI (`make check-deploy`); this checks the names, against
what this process's registry exposes (django-prometheus's and ours), so a renamed metric fails
here instead of leaving an empty panel or an alert that can never fire.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from conftest import ROOT
from enterprise_suite import metrics
from enterprise_suite.tests.metric_names import exposed_names

DASHBOARDS = sorted((ROOT / "deploy" / "grafana" / "dashboards").glob("*.json"))
ALERTS = ROOT / "deploy" / "prometheus" / "alerts.yml"
# Series Prometheus makes itself.
BUILTIN_SERIES = {"up", "scrape_duration_seconds", "scrape_samples_scraped"}
PROMQL_WORDS = {
    "sum", "min", "max", "avg", "count", "rate", "irate", "increase", "by", "without", "and",
    "or", "unless", "on", "ignoring", "group_left", "group_right", "bool", "offset",
    "histogram_quantile", "clamp_min", "clamp_max", "abs", "absent", "topk", "bottomk",
    "label_replace", "vector", "scalar", "time", "le", "inf", "nan",
}  # fmt: skip
_NAME = re.compile(r"[A-Za-z_:][A-Za-z0-9_:]*")


def metric_names(expr: str) -> set[str]:
    """Metric names in a PromQL expression (label matchers, groupings and ranges removed)."""
    text = re.sub(r'"(?:[^"\\]|\\.)*"', "", expr)  # strings
    text = re.sub(r"\{[^}]*\}", "", text)  # label matchers
    text = re.sub(r"\[[^\]]*\]", "", text)  # ranges
    text = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", "", text)
    text = re.sub(r"\b\d+(\.\d+)?([eE][+-]?\d+)?\b", "", text)  # numbers
    return {
        match.group()
        for match in _NAME.finditer(text)
        if match.group().lower() not in PROMQL_WORDS
        and not text[match.end() :].lstrip().startswith("(")
    }


def _dashboard_exprs(dashboard: dict[str, Any]) -> list[str]:
    exprs = []
    for panel in dashboard["panels"]:
        for target in panel.get("targets", []):
            exprs.append(target["expr"])
    return exprs


def _alert_exprs() -> list[str]:
    rules = yaml.safe_load(ALERTS.read_text())
    return [rule["expr"] for group in rules["groups"] for rule in group["rules"]]


@pytest.fixture(scope="module")
def exported() -> set[str]:
    """What a scrape of /metrics shows, after a request has gone through the middleware."""
    from django.test import Client

    client = Client()
    assert client.get("/healthz").status_code == 200
    body = client.get("/metrics").content.decode()
    return exposed_names(text_string_to_metric_families(body)) | BUILTIN_SERIES


def test_metric_names_are_read_from_promql() -> None:
    assert metric_names(
        'sum by (store) (rate(es_deliveries_total{status=~"failed|x"}[30m])) / on (a) up > 0.1'
    ) == {"es_deliveries_total", "up"}


def test_every_business_metric_is_exported(exported: set[str]) -> None:
    assert metrics.EXPORTED_METRICS - {metrics.QUEUE_DEPTH_NAME} <= exported
    if metrics.QUEUE_DEPTH_NAME not in exported:  # embedded profile: no broker to read
        exported.add(metrics.QUEUE_DEPTH_NAME)


@pytest.mark.parametrize("path", DASHBOARDS, ids=lambda p: p.name)
def test_dashboard_parses_and_uses_only_exported_metrics(path: Path, exported: set[str]) -> None:
    dashboard = json.loads(path.read_text())
    assert dashboard["uid"] and dashboard["title"] and dashboard["panels"]
    exprs = _dashboard_exprs(dashboard)
    assert exprs, "a dashboard without queries"
    used = set().union(*(metric_names(expr) for expr in exprs))
    assert used, exprs
    unknown = used - exported - {metrics.QUEUE_DEPTH_NAME}
    assert not unknown, f"{path.name} uses metrics nothing exports: {sorted(unknown)}"


def test_alert_rules_use_only_exported_metrics(exported: set[str]) -> None:
    exprs = _alert_exprs()
    assert len(exprs) >= 6
    used = set().union(*(metric_names(expr) for expr in exprs))
    unknown = used - exported - {metrics.QUEUE_DEPTH_NAME}
    assert not unknown, sorted(unknown)


def test_dashboards_and_alerts_cover_the_issue_list() -> None:
    text = " ".join(
        [
            *_alert_exprs(),
            *(e for p in DASHBOARDS for e in _dashboard_exprs(json.loads(p.read_text()))),
        ]
    )
    for name in (
        "es_deliveries_total",
        "es_delivery_duration_seconds_bucket",
        "es_acknowledgement_latency_seconds",
        "es_webhook_attempts_total",
        "es_events_published_total",
        "es_websocket_clients",
        "es_celery_queue_depth",
        "royalties_import_lines_total",
        "django_http_responses_total_by_status_total",
        "es_readiness_check_ok",
    ):
        assert name in text, name
