"""The one function every service calls on a state change.

`publish` writes the `Event` row in the caller's transaction, so the event exists exactly when
the change does, together with its webhook delivery rows (the webhook outbox). Fan-out
(the live stream in `realtime.stream`, webhook send tasks) happens after commit in
`_after_commit`.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.db import transaction

from enterprise_suite import metrics
from realtime.models import Event
from realtime.webhooks import webhook_deliveries_create


def _after_commit(event: Event, webhook_delivery_ids: list[uuid.UUID]) -> None:
    """Enqueue the event's webhook deliveries and push it to the live WebSocket streams.

    If the broker or Redis is unreachable nothing is lost: the event and its delivery rows are
    in the tables; the pending-stream and due-webhooks jobs (and `resume`) send them later.
    """
    from realtime.stream import stream_publish
    from realtime.webhooks import webhook_deliveries_enqueue

    metrics.event_published(type=event.type)
    if webhook_delivery_ids:
        webhook_deliveries_enqueue(webhook_delivery_ids)
    stream_publish(event)


def publish(
    *,
    organization_id: uuid.UUID,
    type: str,
    subject_type: str,
    subject_id: uuid.UUID,
    data: dict[str, Any] | None = None,
    release_id: uuid.UUID | None = None,
    actor_id: uuid.UUID | None = None,
) -> Event:
    event = Event.objects.create(
        organization_id=organization_id,
        type=type,
        subject_type=subject_type,
        subject_id=subject_id,
        release_id=release_id,
        actor_id=actor_id,
        data=data or {},
    )
    # The webhook outbox rows commit with the event (and the change), so a crash or a Redis
    # outage between commit and the after-commit hook loses no webhook.
    delivery_ids = [delivery.pk for delivery in webhook_deliveries_create(event=event)]
    transaction.on_commit(lambda: _after_commit(event, delivery_ids))
    return event
