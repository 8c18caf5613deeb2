"""Scheduled jobs, defined in code; `manage.py sync_schedules` writes them to celery-beat."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Schedule:
    name: str
    task: str
    every_seconds: int
    description: str


SCHEDULES = (
    Schedule(
        "distribution: poll acknowledgements",
        "distribution.acknowledgements_poll",
        60,
        "Read every store's acknowledgement folder and settle the deliveries.",
    ),
    Schedule(
        "distribution: send store batches",
        "distribution.store_batches_due",
        300,
        "Send the waiting deliveries of batch-mode stores, one batch per store.",
    ),
    Schedule(
        "distribution: mark releases live",
        "distribution.releases_mark_live",
        900,
        "Mark delivered releases whose release date has come as live.",
    ),
    Schedule(
        "distribution: retry due deliveries",
        "distribution.deliveries_retry_due",
        60,
        "Re-send failed deliveries whose backoff has passed and stalled ones whose lease expired.",
    ),
)
SCHEDULE_PREFIX = "distribution: "
