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
)
SCHEDULE_PREFIX = "realtime: "
