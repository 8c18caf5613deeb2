"""Every app's scheduled jobs, as one list for `manage.py sync_schedules`."""

from __future__ import annotations

from distribution.schedules import SCHEDULE_PREFIX as DISTRIBUTION_PREFIX
from distribution.schedules import SCHEDULES as DISTRIBUTION_SCHEDULES
from distribution.schedules import Schedule
from realtime.schedules import SCHEDULE_PREFIX as REALTIME_PREFIX
from realtime.schedules import SCHEDULES as REALTIME_SCHEDULES
from royalties.schedules import SCHEDULE_PREFIX as ROYALTIES_PREFIX
from royalties.schedules import SCHEDULES as ROYALTIES_SCHEDULES

PLATFORM_PREFIX = "platform: "
PLATFORM_SCHEDULES = (
    Schedule(
        "platform: publish queue backlog",
        "enterprise_suite.queue_backlog_publish",
        60,
        "Publish each Celery queue's depth to CloudWatch, the metric workers autoscale on.",
    ),
)

SCHEDULES: tuple[Schedule, ...] = (
    *DISTRIBUTION_SCHEDULES,
    *REALTIME_SCHEDULES,
    *ROYALTIES_SCHEDULES,
    *PLATFORM_SCHEDULES,
)
# Jobs whose names start with these are ours: sync removes the ones no longer defined.
PREFIXES = (DISTRIBUTION_PREFIX, REALTIME_PREFIX, ROYALTIES_PREFIX, PLATFORM_PREFIX)
