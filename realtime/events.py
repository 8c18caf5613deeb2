"""The one function every service calls on a state change.

`publish` writes the `Event` row in the caller's transaction, so the event exists exactly when
the change does, together with its webhook delivery rows (the webhook outbox). Fan-out
(WebSocket stream, webhook send tasks) happens after commit in `_after_commit`.
"""

from __future__ import annotations

import uuid
from typing import Any

import structlog
from django.db import transaction

from enterprise_suite import metrics
from realtime.models import Event
from realtime.webhooks import webhook_deliveries_create

logger = structlog.get_logger(__name__)


def organization_group(organization_id: Any) -> str:
    return f"events.{organization_id}"


def _after_commit(event_id: int, webhook_delivery_ids: list[uuid.UUID] | None = None) -> None:
    """Enqueue the event's webhook deliveries and push it to the organization's WebSocket group.

    If the broker or the channel layer is unreachable nothing is lost: the event and its
    delivery rows are in the tables; `resume` and the due-webhooks job pick them up from there.
    """
    from asgiref.sync import async_to_sync
    from channels.layers import get_channel_layer

    from realtime.selectors import event_message
    from realtime.webhooks import webhook_deliveries_enqueue

    if webhook_delivery_ids:
        webhook_deliveries_enqueue(webhook_delivery_ids)
    event = Event.objects.filter(pk=event_id).first()
    layer = get_channel_layer()
    if event is None or layer is None:
        return
    try:
        async_to_sync(layer.group_send)(
            organization_group(event.organization_id),
            {
                "type": "event.message",
                "event": event_message(event),
                "release_id": str(event.release_id),
            },
        )
    except Exception:  # the outbox keeps it; resume delivers it later
        logger.warning("event_fanout_failed", event_id=event_id, exc_info=True)


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
    metrics.event_published(type=type)
    transaction.on_commit(lambda: _after_commit(event.pk, delivery_ids))
    return event
