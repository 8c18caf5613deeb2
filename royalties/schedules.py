"""Royalties' scheduled jobs, in the shape of `distribution.schedules.Schedule`."""

from __future__ import annotations

from distribution.schedules import Schedule

SCHEDULES = (
    Schedule(
        "royalties: pick up sales reports",
        "royalties.sales_reports_pick_up",
        300,
        "Upload the sales reports stores dropped in ROYALTIES_DROP_ROOT and queue their import.",
    ),
)
SCHEDULE_PREFIX = "royalties: "
