"""Distribution background tasks: thin wrappers that call one service."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="distribution.asset_analyse", max_retries=3, default_retry_delay=30)
def asset_analyse(asset_id: str) -> str | None:
    from distribution.services.assets import asset_analyse as analyse

    asset = analyse(asset_id=asset_id)
    return asset.status if asset else None


@shared_task(name="distribution.delivery_send", bind=True, acks_late=True)
def delivery_send(self, delivery_id: str) -> str | None:
    from distribution.services.delivery import delivery_send as send

    delivery = send(delivery_id=delivery_id, task_id=self.request.id or "")
    return delivery.status if delivery else None


@shared_task(name="distribution.acknowledgements_poll")
def acknowledgements_poll() -> dict[str, int]:
    from distribution.services.acknowledgements import acknowledgements_poll as poll

    return poll()


@shared_task(name="distribution.deliveries_retry_due")
def deliveries_retry_due() -> int:
    from distribution.services.delivery import deliveries_retry_due as retry_due

    return retry_due()


@shared_task(name="distribution.releases_mark_live")
def releases_mark_live() -> int:
    from distribution.services.delivery import releases_mark_live as mark_live

    return mark_live()


@shared_task(name="distribution.store_batch_send", bind=True, acks_late=True)
def store_batch_send(self, store_id: str) -> int:
    from distribution.services.delivery import store_batch_send as send_batch

    return len(send_batch(store_id=store_id, task_id=self.request.id or ""))


@shared_task(name="distribution.store_batches_due")
def store_batches_due() -> int:
    from distribution.services.delivery import store_batches_due as batches_due

    return batches_due()
