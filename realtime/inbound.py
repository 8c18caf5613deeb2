"""Webhooks in: stores post acknowledgements to `/api/v1/inbound/{store}/`.

A request is trusted only when it carries `X-Store-Timestamp` (unix seconds, within
`INBOUND_WEBHOOK_TOLERANCE_SECONDS`, default 300, of our clock) and `X-Store-Signature`
(`sha256=<hex>`), the HMAC-SHA256 of `f"{timestamp}.{raw_body}"` keyed with the store's secret
from the environment variable `STORE_<CODE>_WEBHOOK_SECRET`. A verified acknowledgement is
stored once per (store, the store's own message id), answered at once, and applied to the
delivery later by the `realtime.inbound_webhook_process` task, through the same service the
acknowledgement-file job uses.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import time
from typing import Any

import structlog
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from distribution.models import Store
from distribution.services.acknowledgements import delivery_acknowledge
from enterprise_suite.errors import ApplicationError, NotFound
from realtime.models import InboundWebhook

logger = structlog.get_logger(__name__)

TIMESTAMP_HEADER = "X-Store-Timestamp"
SIGNATURE_HEADER = "X-Store-Signature"
SIGNATURE_PREFIX = "sha256="
DEFAULT_TOLERANCE_SECONDS = 300
STATUS_ACCEPTED = "accepted"
STATUS_REJECTED = "rejected"
STATUSES = (STATUS_ACCEPTED, STATUS_REJECTED)


class SignatureInvalid(ApplicationError):
    """The request is not provably from the store: missing, bad or stale signature."""

    status_code = 401
    code = "authentication_failed"


def webhook_secret_env_name(store_code: str) -> str:
    return f"STORE_{store_code.upper().replace('-', '_')}_WEBHOOK_SECRET"


def webhook_secret(store_code: str) -> str | None:
    """The store's inbound webhook secret, from the environment; None when not configured."""
    return os.environ.get(webhook_secret_env_name(store_code)) or None


def tolerance_seconds() -> int:
    return int(getattr(settings, "INBOUND_WEBHOOK_TOLERANCE_SECONDS", DEFAULT_TOLERANCE_SECONDS))


def signature_for(*, secret: str, timestamp: str, body: bytes) -> str:
    """`sha256=<hex>` of HMAC-SHA256 over `{timestamp}.{body}`: what a store sends."""
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return SIGNATURE_PREFIX + digest.hexdigest()


def inbound_store_get(*, store_code: str) -> tuple[Store, str]:
    """The store and its secret; 404 for an unknown store or one without a configured secret."""
    store = Store.objects.filter(code=store_code).first()
    if store is None:
        logger.warning("inbound_webhook_unknown_store", store=store_code)
        raise NotFound(f"No store {store_code!r} accepts inbound webhooks.")
    secret = webhook_secret(store.code)
    if secret is None:
        logger.warning("inbound_webhook_no_secret", store=store.code)
        raise NotFound(f"No store {store_code!r} accepts inbound webhooks.")
    return store, secret


def inbound_signature_verify(
    *,
    store: Store,
    secret: str,
    timestamp: str | None,
    signature: str | None,
    body: bytes,
    now: float | None = None,
) -> None:
    """Raise SignatureInvalid unless the signature matches and the timestamp is fresh."""
    if not timestamp or not signature:
        logger.warning("inbound_webhook_unsigned", store=store.code)
        raise SignatureInvalid(f"Missing {TIMESTAMP_HEADER} or {SIGNATURE_HEADER} header.")
    try:
        sent_at = int(timestamp.strip())
    except ValueError:
        logger.warning("inbound_webhook_bad_timestamp", store=store.code)
        raise SignatureInvalid(f"{TIMESTAMP_HEADER} must be unix seconds.") from None
    skew = (time.time() if now is None else now) - sent_at
    tolerance = tolerance_seconds()
    if abs(skew) > tolerance:
        logger.warning("inbound_webhook_timestamp_outside_tolerance", store=store.code, skew=skew)
        when = "too old" if skew > 0 else "in the future"
        raise SignatureInvalid(
            f"{TIMESTAMP_HEADER} is {when}: more than {tolerance} seconds from our clock."
        )
    expected = signature_for(secret=secret, timestamp=timestamp.strip(), body=body)
    if not hmac.compare_digest(expected.encode(), signature.strip().lower().encode()):
        logger.warning("inbound_webhook_bad_signature", store=store.code)
        raise SignatureInvalid("The signature does not match.")


def inbound_webhook_record(
    *,
    store: Store,
    message_id: str,
    acknowledges: str,
    status: str,
    text: str,
    payload: dict[str, Any],
) -> tuple[InboundWebhook, bool]:
    """Store a verified acknowledgement once and enqueue its processing after commit.

    Returns the row and whether it is new; a repeat of the store's message id changes nothing.
    """
    from realtime.tasks import inbound_webhook_process

    with transaction.atomic():
        inbound, created = InboundWebhook.objects.get_or_create(
            store=store,
            message_id=message_id,
            defaults={
                "acknowledges": acknowledges,
                "status": status,
                "text": text,
                "payload": payload,
            },
        )
        if created:
            transaction.on_commit(lambda: inbound_webhook_process.delay(inbound.pk))
    logger.info(
        "inbound_webhook_received",
        store=store.code,
        message_id=message_id,
        acknowledges=acknowledges,
        duplicate=not created,
    )
    return inbound, created


@transaction.atomic
def inbound_webhook_process(*, inbound_id: int) -> InboundWebhook | None:
    """Apply a stored acknowledgement to its delivery; record the outcome on the row once."""
    inbound = (
        InboundWebhook.objects.select_for_update(of=("self",))
        .select_related("store")
        .filter(pk=inbound_id)
        .first()
    )
    if inbound is None or inbound.processed_at is not None:
        return inbound
    error = ""
    try:
        delivery_acknowledge(
            store=inbound.store,
            message_id=inbound.acknowledges,
            accepted=inbound.status == STATUS_ACCEPTED,
            text=inbound.text,
        )
    except NotFound:
        error = "unknown message id"
        logger.warning(
            "inbound_webhook_unmatched",
            store=inbound.store.code,
            message_id=inbound.message_id,
            acknowledges=inbound.acknowledges,
        )
    inbound.processed_at = timezone.now()
    inbound.error = error
    inbound.save(update_fields=["processed_at", "error"])
    logger.info(
        "inbound_webhook_processed",
        store=inbound.store.code,
        message_id=inbound.message_id,
        error=error,
    )
    return inbound
