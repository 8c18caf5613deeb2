"""Realtime background tasks: thin wrappers that call one service."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="realtime.webhook_send", acks_late=True)
def webhook_send(delivery_id: str) -> str | None:
    from realtime.webhooks import webhook_delivery_send

    delivery = webhook_delivery_send(delivery_id=delivery_id)
    return delivery.status if delivery else None


@shared_task(name="realtime.webhooks_send_due")
def webhooks_send_due() -> int:
    from realtime.webhooks import webhook_deliveries_send_due

    return webhook_deliveries_send_due()


@shared_task(name="realtime.inbound_webhook_process", acks_late=True)
def inbound_webhook_process(inbound_id: int) -> str | None:
    """Apply a verified store acknowledgement (webhook in) to its delivery."""
    from realtime.inbound import inbound_webhook_process as process

    inbound = process(inbound_id=inbound_id)
    return inbound.error if inbound else None


@shared_task(name="realtime.events_stream_pending")
def events_stream_pending() -> int:
    """Publish again the events whose live fan-out failed while Redis was unreachable."""
    from realtime.stream import stream_publish_pending

    return stream_publish_pending()
