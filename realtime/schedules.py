"""Realtime's scheduled jobs, in the shape of `distribution.schedules.Schedule`.

To be registered with `manage.py sync_schedules` (distribution/schedules.py owns that list).
"""

from __future__ import annotations

from distribution.schedules import Schedule

SCHEDULES = (
    Schedule(
        "realtime: send due webhooks",
        "realtime.webhooks_send_due",
        30,
        "Send webhook deliveries whose backoff has passed or whose send was interrupted.",
    ),
    Schedule(
        "realtime: stream pending events",
        "realtime.events_stream_pending",
        30,
        "Publish to the live streams the events whose fan-out failed while Redis was down.",
    ),
)
SCHEDULE_PREFIX = "realtime: "
