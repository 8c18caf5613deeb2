"""Distribution background tasks: thin wrappers that call one service."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="distribution.asset_analyse", max_retries=3, default_retry_delay=30)
def asset_analyse(asset_id: str) -> str | None:
    from distribution.services.assets import asset_analyse as analyse

    asset = analyse(asset_id=asset_id)
    return asset.status if asset else None
