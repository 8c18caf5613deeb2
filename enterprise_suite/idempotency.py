"""Idempotency-Key bookkeeping for POST requests (see `IdempotencyRecord`)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from enterprise_suite.errors import Conflict
from enterprise_suite.models import IdempotencyRecord

# A request that has held its key this long without finishing died with its process.
STALE_IN_PROGRESS = dt.timedelta(minutes=5)


class IdempotentReplay(Exception):
    """The key was already answered: replay the stored response."""

    def __init__(self, status: int, body: Any) -> None:
        super().__init__(status)
        self.status = status
        self.body = body


def idempotency_begin(
    *, organization_id: Any, user_id: Any, key: str, fingerprint: str
) -> IdempotencyRecord:
    """Claim the key for this request, or raise `IdempotentReplay` / `Conflict`."""
    now = timezone.now()
    scope = {"organization_id": organization_id, "user_id": user_id, "key": key}
    IdempotencyRecord.objects.filter(
        **scope, created_at__lt=now - dt.timedelta(hours=settings.IDEMPOTENCY_KEY_TTL_HOURS)
    ).delete()
    try:
        with transaction.atomic():
            return IdempotencyRecord.objects.create(**scope, request_fingerprint=fingerprint)
    except IntegrityError:
        pass
    existing = IdempotencyRecord.objects.get(**scope)
    if existing.request_fingerprint != fingerprint:
        raise Conflict(
            "This Idempotency-Key was already used with a different request.",
            code="idempotency_key_reused",
        )
    if existing.state == IdempotencyRecord.State.COMPLETED:
        raise IdempotentReplay(existing.response_status or 200, existing.response_body)
    taken_over = IdempotencyRecord.objects.filter(
        pk=existing.pk,
        state=IdempotencyRecord.State.IN_PROGRESS,
        created_at__lt=now - STALE_IN_PROGRESS,
    ).update(created_at=now)
    if taken_over:
        return existing
    raise Conflict(
        "A request with this Idempotency-Key is still being processed; retry shortly.",
        code="idempotency_in_progress",
    )


def idempotency_complete(*, record: IdempotencyRecord, status: int, body: Any) -> None:
    IdempotencyRecord.objects.filter(pk=record.pk).update(
        state=IdempotencyRecord.State.COMPLETED, response_status=status, response_body=body
    )


def idempotency_release(*, record: IdempotencyRecord) -> None:
    """Forget the key after a server error, so the client's retry runs again."""
    IdempotencyRecord.objects.filter(pk=record.pk).delete()
