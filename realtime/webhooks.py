"""Outbound webhooks: endpoints, the delivery outbox, signed sends, retries and replay.

Deliveries are written by `realtime.events.publish` in the event's own transaction, so a
committed event always has its delivery rows (the outbox) even if Redis or the process dies right
after commit; the send task is only a nudge, and `webhook_deliveries_send_due` picks up whatever
was not sent. Deliveries to one endpoint go out in order per subject: a delivery waits while an
earlier undelivered one for the same endpoint and subject exists.
"""

from __future__ import annotations

import base64
import datetime as dt
import ipaddress
import json
import random
import secrets
import socket
import time
import uuid
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import structlog
from django.conf import settings
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from enterprise_suite import metrics
from enterprise_suite.errors import Conflict, ValidationFailed
from realtime.models import (
    Event,
    WebhookAttempt,
    WebhookDelivery,
    WebhookDeliveryStatus,
    WebhookEndpoint,
)

logger = structlog.get_logger(__name__)

ENDPOINT_DISABLED_EVENT = "webhook_endpoint.disabled"
RESPONSE_BODY_LIMIT = 2048
CONNECT_TIMEOUT = 5.0
TOTAL_TIMEOUT = 10.0
# Retries due within this many seconds are also queued with a countdown, so they go out on
# time without waiting for the due job; later ones are left to the job (a broker holding
# hours-long countdowns would redeliver them after its visibility timeout).
RETRY_COUNTDOWN_MAX_SECONDS = 600


class UnsafeUrl(ValueError):
    """The URL is not http(s) or resolves to an address webhooks may not reach."""


# --- Endpoint URLs and secrets ----------------------------------------------------------------


def _address_forbidden(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return (
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
        or not ip.is_global
    )


def webhook_url_check(url: str) -> str | None:
    """Refuse URLs that are not http(s) or resolve to loopback, link-local or private networks.

    Runs at creation and again before every send, because DNS answers change. Returns the
    checked address the send must connect to (None when private networks are allowed): were
    the client to resolve the name again, a DNS answer changed in between (rebinding) could
    point it inside.
    """
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise UnsafeUrl("Only http and https URLs with a host are allowed.")
    if settings.WEBHOOK_ALLOW_PRIVATE_NETWORKS:
        return None
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
        infos = socket.getaddrinfo(parts.hostname, port, proto=socket.IPPROTO_TCP)
    except (OSError, ValueError) as exc:
        raise UnsafeUrl(f"The host {parts.hostname} does not resolve.") from exc
    addresses = [str(info[4][0]) for info in infos]
    if not addresses or any(_address_forbidden(address) for address in addresses):
        raise UnsafeUrl(
            f"The host {parts.hostname} resolves to a private, loopback or link-local "
            "address, which webhooks may not reach."
        )
    return addresses[0]


def _validated_url(url: str) -> str:
    try:
        webhook_url_check(url)
    except UnsafeUrl as exc:
        raise ValidationFailed(str(exc), details={"url": [str(exc)]}) from exc
    return url


def webhook_secret_generate() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def webhook_endpoint_create(
    *,
    organization_id: uuid.UUID,
    url: str,
    event_types: Iterable[str] = (),
    description: str = "",
    is_active: bool = True,
) -> WebhookEndpoint:
    return WebhookEndpoint.objects.create(
        organization_id=organization_id,
        url=_validated_url(url),
        event_types=sorted(set(event_types)),
        description=description,
        is_active=is_active,
        secret=webhook_secret_generate(),
    )


def webhook_endpoint_update(*, endpoint: WebhookEndpoint, **fields: Any) -> WebhookEndpoint:
    if "url" in fields:
        fields["url"] = _validated_url(fields["url"])
    if "event_types" in fields:
        fields["event_types"] = sorted(set(fields["event_types"]))
    if fields.get("is_active") and not endpoint.is_active:
        # Re-enabled by hand: start counting failures afresh; waiting deliveries resume.
        fields.update(consecutive_failures=0, disabled_at=None, disabled_reason="")
    for name, value in fields.items():
        setattr(endpoint, name, value)
    endpoint.save()
    return endpoint


def webhook_endpoint_rotate_secret(*, endpoint: WebhookEndpoint) -> WebhookEndpoint:
    endpoint.secret = webhook_secret_generate()
    endpoint.save(update_fields=["secret", "updated_at"])
    return endpoint


ENDPOINT_DELETED_ERROR = "The endpoint was deleted before this delivery was sent."


@transaction.atomic
def webhook_endpoint_delete(*, endpoint: WebhookEndpoint) -> WebhookEndpoint:
    """Stop sending to the endpoint and hide it, keeping its deliveries and attempts as the
    record of what was sent; deliveries still waiting are closed as failed, with the reason."""
    locked = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
    if locked.deleted_at is None:
        now = timezone.now()
        locked.deleted_at = now
        locked.is_active = False
        locked.save(update_fields=["deleted_at", "is_active", "updated_at"])
        WebhookDelivery.objects.filter(
            endpoint=locked, status=WebhookDeliveryStatus.PENDING
        ).update(
            status=WebhookDeliveryStatus.FAILED,
            next_attempt_at=None,
            lease_expires_at=None,
            last_error=ENDPOINT_DELETED_ERROR,
        )
    return locked


# --- The outbox ---------------------------------------------------------------------------------


def webhook_deliveries_create(*, event: Event) -> list[WebhookDelivery]:
    """Called by `publish` inside the event's transaction."""
    endpoints = WebhookEndpoint.objects.filter(
        organization_id=event.organization_id, is_active=True
    )
    now = timezone.now()
    deliveries = [
        WebhookDelivery(
            organization_id=event.organization_id,
            endpoint=endpoint,
            event=event,
            subject_type=event.subject_type,
            subject_id=event.subject_id,
            next_attempt_at=now,
        )
        for endpoint in endpoints
        if endpoint.subscribes_to(event.type)
    ]
    return WebhookDelivery.objects.bulk_create(deliveries) if deliveries else []


def _schedule_retry(delivery_id: uuid.UUID, due: dt.datetime) -> None:
    from realtime.tasks import webhook_send

    # A little late rather than early: an early attempt is refused as "backing off".
    countdown = (due - timezone.now()).total_seconds() + 0.05
    if countdown > RETRY_COUNTDOWN_MAX_SECONDS:
        return
    try:
        webhook_send.apply_async((str(delivery_id),), countdown=max(countdown, 0))
    except Exception:  # the due job sends it
        logger.warning("webhook_retry_enqueue_failed", delivery_id=str(delivery_id), exc_info=True)


def webhook_deliveries_enqueue(delivery_ids: Iterable[uuid.UUID]) -> None:
    """Nudge the worker; if the broker is down the due job sends them later."""
    from realtime.tasks import webhook_send

    for delivery_id in delivery_ids:
        try:
            webhook_send.delay(str(delivery_id))
        except Exception:
            logger.warning("webhook_enqueue_failed", delivery_id=str(delivery_id), exc_info=True)


def _earlier_undelivered(delivery: WebhookDelivery) -> QuerySet[WebhookDelivery]:
    return WebhookDelivery.objects.filter(
        endpoint_id=delivery.endpoint_id,
        subject_type=delivery.subject_type,
        subject_id=delivery.subject_id,
        status=WebhookDeliveryStatus.PENDING,
        event_id__lt=delivery.event_id,
    )


def _next_in_chain(delivery: WebhookDelivery) -> list[uuid.UUID]:
    nxt = (
        WebhookDelivery.objects.filter(
            endpoint_id=delivery.endpoint_id,
            subject_type=delivery.subject_type,
            subject_id=delivery.subject_id,
            status=WebhookDeliveryStatus.PENDING,
            event_id__gt=delivery.event_id,
        )
        .order_by("event_id")
        .values_list("id", flat=True)
        .first()
    )
    return [nxt] if nxt else []


def _backoff(attempt: int) -> dt.timedelta:
    # The fixed ladder, with ±20 % jitter so a recovering receiver is not hit all at once.
    ladder = settings.WEBHOOK_BACKOFF_SECONDS
    base = ladder[min(max(attempt - 1, 0), len(ladder) - 1)]
    return dt.timedelta(seconds=base * random.uniform(0.8, 1.2))  # noqa: S311


def webhook_payload(event: Event) -> str:
    from realtime.selectors import event_message

    return json.dumps(event_message(event), separators=(",", ":"), sort_keys=True)


def webhook_headers(*, secret: str, message_id: str, body: str) -> dict[str, str]:
    from standardwebhooks.webhooks import Webhook

    now = dt.datetime.now(tz=dt.UTC)
    return {
        "content-type": "application/json",
        "user-agent": "EnterpriseSuite-Webhooks/1",
        "webhook-id": message_id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": Webhook(secret).sign(msg_id=message_id, timestamp=now, data=body),
    }


def _pinned(url: str, address: str) -> tuple[str, dict[str, str], dict[str, Any]]:
    """The URL with its host replaced by `address`, the Host header and the TLS server name
    that keep the request (and certificate check) about the original host."""
    parts = urlsplit(url)
    host = f"[{address}]" if ":" in address else address
    netloc = f"{host}:{parts.port}" if parts.port else host
    extensions: dict[str, Any] = {}
    if parts.scheme == "https":
        extensions["sni_hostname"] = parts.hostname
    return (
        urlunsplit(parts._replace(netloc=netloc)),
        {"Host": parts.netloc.rsplit("@", 1)[-1]},
        extensions,
    )


def _post(
    url: str, headers: dict[str, str], body: str, *, address: str | None = None
) -> tuple[int, str]:
    """POST once, with 5 s to connect and 10 s in all; no redirects (they could point inside).
    With `address`, connect to that checked address rather than resolving the host again."""
    import httpx

    deadline = time.monotonic() + TOTAL_TIMEOUT
    timeout = httpx.Timeout(TOTAL_TIMEOUT, connect=CONNECT_TIMEOUT)
    extensions: dict[str, Any] = {}
    if address is not None:
        url, host_header, extensions = _pinned(url, address)
        headers = {**headers, **host_header}
    with (
        httpx.Client(timeout=timeout, follow_redirects=False, trust_env=False) as client,
        client.stream(
            "POST", url, headers=headers, content=body.encode(), extensions=extensions
        ) as response,
    ):
        chunks, size = [], 0
        for chunk in response.iter_bytes():
            if time.monotonic() > deadline:
                raise httpx.TimeoutException("Total timeout of 10 s exceeded.")
            chunks.append(chunk)
            size += len(chunk)
            if size >= RESPONSE_BODY_LIMIT:
                break
        text = b"".join(chunks)[:RESPONSE_BODY_LIMIT].decode("utf-8", errors="replace")
        return response.status_code, text


def _claim(delivery_id: str, *, force: bool) -> WebhookDelivery | None:
    """Take the delivery for one attempt, or None if it is not ours to send now."""
    now = timezone.now()
    with transaction.atomic():
        delivery = (
            WebhookDelivery.objects.select_for_update(of=("self",))
            .select_related("endpoint", "event")
            .filter(pk=delivery_id)
            .first()
        )
        if delivery is None or delivery.status != WebhookDeliveryStatus.PENDING:
            return None
        if not delivery.endpoint.is_active:
            return None
        if delivery.lease_expires_at and delivery.lease_expires_at > now:
            return None  # another worker is sending it right now
        if not force and delivery.next_attempt_at and delivery.next_attempt_at > now:
            return None  # backing off
        if _earlier_undelivered(delivery).exists():
            return None  # waits for the earlier one; its completion enqueues this one
        delivery.attempt_count += 1
        delivery.last_attempt_at = now
        delivery.lease_expires_at = now + dt.timedelta(seconds=settings.WEBHOOK_LEASE_SECONDS)
        delivery.save(update_fields=["attempt_count", "last_attempt_at", "lease_expires_at"])
        return delivery


def webhook_delivery_send(*, delivery_id: str, force: bool = False) -> WebhookDelivery | None:
    """Make one attempt of a due delivery; a rerun for a delivery that moved on does nothing."""
    import httpx

    delivery = _claim(delivery_id, force=force)
    if delivery is None:
        return None
    endpoint = delivery.endpoint
    body = webhook_payload(delivery.event)
    started = timezone.now()
    clock = time.monotonic()
    status_code: int | None = None
    response_body = error = ""
    try:
        address = webhook_url_check(endpoint.url)
        headers = webhook_headers(secret=endpoint.secret, message_id=delivery.message_id, body=body)
        status_code, response_body = _post(endpoint.url, headers, body, address=address)
        if not 200 <= status_code < 300:
            error = f"HTTP {status_code}"
    except UnsafeUrl as exc:
        error = f"Refused: {exc}"
    except httpx.HTTPError as exc:
        error = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    latency_ms = int((time.monotonic() - clock) * 1000)
    return _record(
        delivery,
        started=started,
        status_code=status_code,
        latency_ms=latency_ms,
        response_body=response_body,
        error=error,
    )


def _record(
    delivery: WebhookDelivery,
    *,
    started: dt.datetime,
    status_code: int | None,
    latency_ms: int,
    response_body: str,
    error: str,
) -> WebhookDelivery:
    succeeded = not error
    disabled: WebhookEndpoint | None = None
    with transaction.atomic():
        locked = WebhookDelivery.objects.select_for_update().get(pk=delivery.pk)
        endpoint = WebhookEndpoint.objects.select_for_update().get(pk=delivery.endpoint_id)
        WebhookAttempt.objects.create(
            delivery=locked,
            started_at=started,
            succeeded=succeeded,
            status_code=status_code,
            latency_ms=latency_ms,
            response_body=response_body[:RESPONSE_BODY_LIMIT],
            error=error[:2000],
        )
        locked.lease_expires_at = None
        finished = True
        if succeeded:
            locked.status = WebhookDeliveryStatus.SUCCEEDED
            locked.delivered_at = timezone.now()
            locked.next_attempt_at = None
            locked.last_error = ""
            endpoint.consecutive_failures = 0
        elif locked.attempt_count >= settings.WEBHOOK_MAX_ATTEMPTS:
            locked.status = WebhookDeliveryStatus.FAILED
            locked.next_attempt_at = None
            locked.last_error = f"{error} (gave up after {locked.attempt_count} attempts)"
            endpoint.consecutive_failures += 1
            if (
                endpoint.is_active
                and endpoint.consecutive_failures >= settings.WEBHOOK_DISABLE_AFTER_FAILURES
            ):
                endpoint.is_active = False
                endpoint.disabled_at = timezone.now()
                endpoint.disabled_reason = (
                    f"{endpoint.consecutive_failures} deliveries in a row failed."
                )
                disabled = endpoint
        else:
            finished = False
            locked.last_error = error
            locked.next_attempt_at = timezone.now() + _backoff(locked.attempt_count)
            retry_id, retry_at = locked.pk, locked.next_attempt_at
            transaction.on_commit(lambda: _schedule_retry(retry_id, retry_at))
        locked.save()
        endpoint.save(
            update_fields=[
                "consecutive_failures",
                "is_active",
                "disabled_at",
                "disabled_reason",
                "updated_at",
            ]
        )
        if disabled is not None:
            _publish_disabled(disabled)
        if finished:
            following = _next_in_chain(locked)
            transaction.on_commit(lambda: webhook_deliveries_enqueue(following))
    metrics.webhook_attempted(
        succeeded=succeeded,
        abandoned=locked.status == WebhookDeliveryStatus.FAILED and not succeeded,
    )
    logger.info(
        "webhook_attempt",
        delivery_id=str(locked.pk),
        endpoint_id=str(locked.endpoint_id),
        status=locked.status,
        status_code=status_code,
        latency_ms=latency_ms,
        error=error,
    )
    return locked


def _publish_disabled(endpoint: WebhookEndpoint) -> None:
    from realtime.events import publish

    publish(
        organization_id=endpoint.organization_id,
        type=ENDPOINT_DISABLED_EVENT,
        subject_type="webhook_endpoint",
        subject_id=endpoint.id,
        data={
            "url": endpoint.url,
            "consecutive_failures": endpoint.consecutive_failures,
            "reason": endpoint.disabled_reason,
        },
    )


def webhook_delivery_replay(*, delivery: WebhookDelivery) -> WebhookDelivery:
    """Send a finished delivery again, with the same webhook-id, as soon as its turn comes."""
    with transaction.atomic():
        locked = (
            WebhookDelivery.objects.select_for_update(of=("self",))
            .select_related("endpoint")
            .get(pk=delivery.pk)
        )
        if locked.status == WebhookDeliveryStatus.PENDING:
            raise Conflict("This delivery is still pending; it will be sent on its own.")
        if locked.endpoint.deleted_at is not None:
            raise Conflict("The endpoint was deleted; its deliveries cannot be replayed.")
        if not locked.endpoint.is_active:
            raise Conflict("The endpoint is disabled; enable it before replaying.")
        locked.status = WebhookDeliveryStatus.PENDING
        locked.attempt_count = 0
        locked.next_attempt_at = timezone.now()
        locked.lease_expires_at = None
        locked.save()
        transaction.on_commit(lambda: webhook_deliveries_enqueue([locked.pk]))
    return locked


def webhook_deliveries_send_due(*, limit: int = 500) -> int:
    """Enqueue pending deliveries whose backoff passed or whose lease ran out, oldest first."""
    now = timezone.now()
    due = list(
        WebhookDelivery.objects.filter(
            status=WebhookDeliveryStatus.PENDING,
            endpoint__is_active=True,
            next_attempt_at__lte=now,
        )
        .filter(Q(lease_expires_at__isnull=True) | Q(lease_expires_at__lt=now))
        .order_by("event_id")
        .values_list("id", flat=True)[:limit]
    )
    webhook_deliveries_enqueue(due)
    return len(due)


# --- Reads ----------------------------------------------------------------------------------


def webhook_endpoint_list(*, organization_id: uuid.UUID) -> QuerySet[WebhookEndpoint]:
    return WebhookEndpoint.objects.filter(organization_id=organization_id, deleted_at__isnull=True)


def webhook_delivery_list(*, organization_id: uuid.UUID) -> QuerySet[WebhookDelivery]:
    return (
        WebhookDelivery.objects.filter(organization_id=organization_id)
        .select_related("event")
        .prefetch_related("attempts")
        .order_by("-event_id", "-created_at")
    )
