"""Deliveries: one DDEX message of one release to one store, from queue to acknowledgement.

queued -> packaging -> uploading -> delivered -> acknowledged | rejected; failed (retried with
exponential backoff and jitter until DELIVERY_MAX_ATTEMPTS, then kept failed) and cancelled.
A run claims the delivery under a row lock with a lease, so a duplicate task message waits
out the lease and then finds it done; a run after a killed worker takes over once the lease
expires, and the transport's completion marker keeps the store from getting a batch twice.
"""

from __future__ import annotations

import datetime as dt
import os
import random
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from accounts.models import User
from distribution.choices import (
    DeliveryKind,
    DeliveryMode,
    DeliveryStatus,
    ReleaseStatus,
    TakedownMode,
    TransportKind,
)
from distribution.ddex.builder import build_new_release_message, build_purge_release_message
from distribution.ddex.model import MessagingParty, PurgeReleaseMessageInput
from distribution.ddex.schema import SchemaNotFound
from distribution.ddex.schema import validate as validate_ern
from distribution.models import (
    ACTIVE_DELIVERY_STATUSES,
    Delivery,
    DeliveryAttempt,
    Release,
    ReleaseStore,
    Store,
)
from distribution.transports import (
    Batch,
    PermanentTransportError,
    ReleasePackage,
    Resource,
    TransientTransportError,
    Transport,
    config_from_mapping,
    make_batch_id,
    transport_for,
)
from enterprise_suite import metrics
from enterprise_suite.errors import ApplicationError, InvalidTransition, NotFound, ValidationFailed
from realtime.events import publish

DONE = (DeliveryStatus.DELIVERED, DeliveryStatus.ACKNOWLEDGED)


class DeliveryInvalid(Exception):
    """The message cannot be built or does not validate: retrying will not help."""


# --- Stores -----------------------------------------------------------------------------------


def store_secrets(store: Store) -> dict[str, str]:
    """Secrets for a store's transport from STORE_<CODE>_<NAME> environment variables."""
    prefix = f"STORE_{store.code.upper().replace('-', '_')}_"
    names = {
        "PASSWORD": "password",
        "PRIVATE_KEY": "private_key",
        "PASSPHRASE": "passphrase",
        "AWS_ACCESS_KEY_ID": "access_key_id",
        "AWS_SECRET_ACCESS_KEY": "secret_access_key",
    }
    return {
        field: os.environ[prefix + env]
        for env, field in names.items()
        if prefix + env in os.environ
    }


def store_transport(store: Store) -> Transport:
    data: dict[str, Any] = {"kind": store.transport, **store.transport_settings}
    if store.transport == TransportKind.FILESYSTEM:
        data["root"] = str(Path(settings.STORE_DROP_ROOT) / str(data.get("root") or store.code))
    return transport_for(config_from_mapping(data, store_secrets(store)))


# Demo DDEX party ids: replace them with each store's real DPID from its onboarding pack.
COMMON_STORES = [
    ("spotify", "Spotify", "PADPIDA0000000001S"),
    ("apple-music", "Apple Music", "PADPIDA0000000002A"),
    ("amazon-music", "Amazon Music", "PADPIDA0000000003M"),
    ("youtube-music", "YouTube Music", "PADPIDA0000000004Y"),
    ("deezer", "Deezer", "PADPIDA0000000005D"),
    ("tidal", "TIDAL", "PADPIDA0000000006T"),
    ("tiktok", "TikTok", "PADPIDA0000000007K"),
]


def stores_seed_common() -> list[tuple[Store, bool]]:
    """Create the common stores with folder transports (idempotent)."""
    return [
        Store.objects.get_or_create(
            code=code,
            defaults={
                "name": name,
                "dpid": dpid,
                "transport": TransportKind.FILESYSTEM,
                "transport_settings": {"root": code},
            },
        )
        for code, name, dpid in COMMON_STORES
    ]


def release_set_stores(*, release: Release, codes: list[str]) -> list[Store]:
    stores = list(Store.objects.filter(code__in=codes, is_active=True))
    unknown = sorted(set(codes) - {s.code for s in stores})
    if unknown:
        raise ValidationFailed(
            f"Unknown or inactive stores: {', '.join(unknown)}.", details={"stores": unknown}
        )
    with transaction.atomic():
        ReleaseStore.objects.filter(release=release).exclude(store__in=stores).delete()
        for store in stores:
            ReleaseStore.objects.get_or_create(release=release, store=store)
    return stores


# --- Status bookkeeping -----------------------------------------------------------------------


def _set_status(delivery: Delivery, to: str, *, error: str = "", **fields: Any) -> None:
    previous = delivery.status
    delivery.status = to
    for name, value in fields.items():
        setattr(delivery, name, value)
    update = ["status", "updated_at", *fields]
    if error or to in DONE:
        delivery.last_error = error
        update.append("last_error")
    delivery.save(update_fields=update)
    metrics.delivery_status_changed(store=delivery.store.code, status=to)
    publish(
        organization_id=delivery.organization_id,
        type="delivery.status_changed",
        subject_type="delivery",
        subject_id=delivery.pk,
        release_id=delivery.release_id,
        data={
            "from": previous,
            "to": to,
            "store": delivery.store.code,
            "kind": delivery.kind,
            "error": error,
            "store_message": delivery.store_message,
        },
    )
    # The release's status depends only on whether deliveries are still being sent, so moves
    # within the active states (queued -> packaging -> uploading) cannot change it.
    if (previous in ACTIVE_DELIVERY_STATUSES) != (to in ACTIVE_DELIVERY_STATUSES):
        _sync_release_status(delivery.release_id)


def _sync_release_status(release_id: uuid.UUID, actor: User | None = None) -> None:
    """The release's status follows its deliveries."""
    release = Release.objects.select_for_update().get(pk=release_id)
    latest: dict[Any, Delivery] = {}
    for delivery in (
        Delivery.objects.filter(release_id=release_id)
        .exclude(status=DeliveryStatus.CANCELLED)
        .order_by("created_at")
    ):
        latest[delivery.store_id] = delivery
    if not latest:
        return
    takedown = any(d.kind == DeliveryKind.TAKEDOWN for d in latest.values())
    # Settled once nothing is still being sent; a store's rejection shows on its delivery.
    all_done = not any(d.status in ACTIVE_DELIVERY_STATUSES for d in latest.values())
    if takedown:
        target = ReleaseStatus.TAKEN_DOWN if all_done else ReleaseStatus.TAKEDOWN_REQUESTED
    else:
        target = ReleaseStatus.DELIVERED if all_done else ReleaseStatus.DELIVERING
    if release.status != target and release.status not in (ReleaseStatus.DRAFT,):
        previous = release.status
        release.status = target
        release.save(update_fields=["status", "updated_at"])
        publish(
            organization_id=release.organization_id,
            type="release.status_changed",
            subject_type="release",
            subject_id=release.pk,
            release_id=release.pk,
            actor_id=actor.pk if actor else None,
            data={"from": previous, "to": target, "reason": "deliveries"},
        )


def delivery_lock(*related: str, **lookup: Any) -> Delivery | None:
    """Lock a delivery for a status change, its release first (call inside a transaction).

    Approval, redelivery and takedown lock a release and then its deliveries, and a delivery's
    status change may lock its release to recompute the release's status. Taking the release
    first here as well keeps one lock order everywhere, so the two can never deadlock.
    """
    release_id = Delivery.objects.filter(**lookup).values_list("release_id", flat=True).first()
    if release_id is None:
        return None
    list(Release.objects.select_for_update().filter(pk=release_id).values_list("pk", flat=True))
    return (
        Delivery.objects.select_for_update(of=("self",))
        .select_related("store", *related)
        .filter(**lookup)
        .first()
    )


# --- Creating deliveries ----------------------------------------------------------------------


def deliveries_create(
    *,
    release: Release,
    kind: str,
    stores: list[Store] | None = None,
    actor: User | None = None,
) -> list[Delivery]:
    """Queue one delivery per chosen store (call inside the transaction that decides it)."""
    from distribution.tasks import delivery_send as send_task

    chosen = (
        stores
        if stores is not None
        else [
            rs.store
            for rs in ReleaseStore.objects.filter(
                release=release, store__is_active=True
            ).select_related("store")
        ]
    )
    created = []
    for store in chosen:
        cancelled = Delivery.objects.filter(
            release=release, store=store, status__in=ACTIVE_DELIVERY_STATUSES
        ).update(status=DeliveryStatus.CANCELLED, updated_at=timezone.now())
        if cancelled:
            metrics.delivery_status_changed(
                store=store.code, status=DeliveryStatus.CANCELLED, count=cancelled
            )
        delivery = Delivery.objects.create(
            organization_id=release.organization_id,
            release=release,
            store=store,
            kind=kind,
            message_id=f"ES-{uuid.uuid4().hex}",
        )
        if store.delivery_mode == DeliveryMode.RELEASE:
            delivery.batch_id = make_batch_id(delivery.created_at, str(delivery.pk)[:8])
            delivery.save(update_fields=["batch_id"])
        metrics.delivery_status_changed(store=store.code, status=delivery.status)
        publish(
            organization_id=release.organization_id,
            type="delivery.status_changed",
            subject_type="delivery",
            subject_id=delivery.pk,
            release_id=release.pk,
            data={
                "from": "",
                "to": delivery.status,
                "store": store.code,
                "kind": kind,
                "error": "",
            },
        )
        created.append(delivery)
    if created:
        _sync_release_status(release.pk, actor)
    # Sends are registered after the release's own status event: eager tasks (embedded
    # profile) run inside these commit hooks, and their events must not overtake it.
    for delivery in created:
        if delivery.store.delivery_mode == DeliveryMode.RELEASE:
            send_task.delay_on_commit(str(delivery.pk))  # type: ignore[attr-defined]
    return created


@transaction.atomic
def release_takedown(*, release: Release, actor: User | None = None) -> list[Delivery]:
    locked = Release.objects.select_for_update().get(pk=release.pk)
    if locked.status not in (
        ReleaseStatus.DELIVERED,
        ReleaseStatus.DELIVERING,
        ReleaseStatus.APPROVED,
    ):
        raise InvalidTransition(
            f"Cannot take down a release that is {locked.status}.",
            details={"status": locked.status},
        )
    # One subquery: an exclude() across the relation would drop every store that has a
    # cancelled delivery of any release (e.g. this one's, replaced by a redelivery).
    stores = list(
        Store.objects.filter(
            pk__in=Delivery.objects.filter(release=locked)
            .exclude(status=DeliveryStatus.CANCELLED)
            .values("store_id")
        )
    )
    if not stores:
        raise InvalidTransition(
            "The release has not been delivered to any store.", details={"status": locked.status}
        )
    return deliveries_create(release=locked, kind=DeliveryKind.TAKEDOWN, stores=stores, actor=actor)


@transaction.atomic
def release_redeliver(*, release: Release) -> list[Delivery]:
    """Send the release's current state again (ERN update) to the stores it went to."""
    locked = Release.objects.select_for_update().get(pk=release.pk)
    if locked.status not in (
        ReleaseStatus.APPROVED,
        ReleaseStatus.DELIVERING,
        ReleaseStatus.DELIVERED,
    ):
        raise InvalidTransition(
            f"Cannot redeliver a release that is {locked.status}.",
            details={"status": locked.status},
        )
    stores = list(
        Store.objects.filter(
            deliveries__release=locked, deliveries__kind=DeliveryKind.INSERT
        ).distinct()
    )
    if not stores:
        raise InvalidTransition(
            "The release has not been delivered to any store.", details={"status": locked.status}
        )
    return deliveries_create(release=locked, kind=DeliveryKind.UPDATE, stores=stores)


@transaction.atomic
def delivery_retry(*, delivery: Delivery) -> Delivery:
    """Start a failed (or rejected) delivery again, as a fresh attempt."""
    from distribution.tasks import delivery_send as send_task

    locked = delivery_lock(pk=delivery.pk)
    if locked is None:
        raise NotFound("No such delivery.")
    if locked.status not in (DeliveryStatus.FAILED, DeliveryStatus.REJECTED):
        raise InvalidTransition(
            f"Only failed or rejected deliveries can be retried; this one is {locked.status}.",
            details={"status": locked.status},
        )
    if locked.status == DeliveryStatus.REJECTED:
        # A rejected message is final for that message id: send a new delivery instead.
        return deliveries_create(release=locked.release, kind=locked.kind, stores=[locked.store])[0]
    if locked.store.delivery_mode == DeliveryMode.BATCH:
        # Its old batch may have been completed by the others: it goes out in a new one.
        _set_status(
            locked, DeliveryStatus.QUEUED, next_attempt_at=None, attempt_count=0, batch_id=""
        )
        return locked
    _set_status(locked, DeliveryStatus.QUEUED, next_attempt_at=None, attempt_count=0)
    send_task.delay_on_commit(str(locked.pk))  # type: ignore[attr-defined]
    return locked


# --- Sending ----------------------------------------------------------------------------------


def _claim(delivery_id: Any, task_id: str) -> tuple[Delivery, DeliveryAttempt] | None:
    now = timezone.now()
    with transaction.atomic():
        delivery = delivery_lock("release", pk=delivery_id)
        if delivery is None:
            return None
        runnable = delivery.status in (DeliveryStatus.QUEUED, DeliveryStatus.FAILED) or (
            delivery.status in (DeliveryStatus.PACKAGING, DeliveryStatus.UPLOADING)
            and (delivery.lease_expires_at is None or delivery.lease_expires_at < now)
        )
        if not runnable:
            return None
        if delivery.status == DeliveryStatus.FAILED and delivery.next_attempt_at is None:
            return None  # gave up, or failed for good: only an explicit retry restarts it
        attempt = DeliveryAttempt.objects.create(delivery=delivery, task_id=task_id)
        _set_status(
            delivery,
            DeliveryStatus.PACKAGING,
            attempt_count=delivery.attempt_count + 1,
            lease_expires_at=now + dt.timedelta(seconds=settings.DELIVERY_LEASE_SECONDS),
            next_attempt_at=None,
        )
        return delivery, attempt


def _build_message(delivery: Delivery) -> tuple[bytes, list[Any]]:
    from distribution.ddex_input import DdexInputError, ddex_package

    try:
        package = ddex_package(
            release_id=delivery.release_id,
            recipient=MessagingParty(dpid=delivery.store.dpid, name=delivery.store.name),
            sender=MessagingParty(dpid=settings.DDEX_SENDER_DPID, name=settings.DDEX_SENDER_NAME),
            kind=delivery.kind,
            message_id=delivery.message_id,
            thread_id=str(delivery.release_id),
            created_at=timezone.now(),
            test_message=settings.DDEX_TEST_MESSAGES,
        )
    except DdexInputError as exc:
        raise DeliveryInvalid(f"{exc.message} {exc.details or ''}".strip()) from exc
    resources: list[Any] = package.resources
    store = delivery.store
    if delivery.kind == DeliveryKind.TAKEDOWN and store.takedown_mode == TakedownMode.PURGE:
        release = package.message.release
        xml = build_purge_release_message(
            PurgeReleaseMessageInput(
                header=package.message.header,
                icpn=release.icpn,
                title=release.title,
                version=release.version,
                artist_names=tuple(a.party.name for a in release.display_artists),
            )
        )
        resources = []
    else:
        xml = build_new_release_message(package.message)
        if delivery.kind == DeliveryKind.TAKEDOWN:
            resources = []  # a takedown carries no files
        elif delivery.kind == DeliveryKind.UPDATE and not store.resend_audio_on_update:
            # The store keeps the audio it has; only the artwork and the message go again.
            resources = [r for r in resources if not r.target_name.endswith((".wav", ".flac"))]
    try:
        errors = validate_ern(xml, Path(settings.DDEX_SCHEMA_DIR))
    except SchemaNotFound as exc:
        # Never send a message that was not validated; an operator fixes the setting, then
        # retries the delivery.
        raise DeliveryInvalid(str(exc)) from exc
    if errors:
        raise DeliveryInvalid(
            "The ERN message does not validate against the schema:\n" + "\n".join(errors)
        )
    return xml, resources


@contextmanager
def _local_files(resources: list[Any]) -> Iterator[list[Resource]]:
    """Local paths for the resources: the stored files themselves on a filesystem storage,
    temporary downloads otherwise (transports stream from local files)."""
    with tempfile.TemporaryDirectory(prefix="delivery-") as scratch:
        local = []
        for resource in resources:
            try:
                path = Path(default_storage.path(resource.storage_name))
            except NotImplementedError:
                path = Path(scratch) / resource.target_name
                with (
                    default_storage.open(resource.storage_name, "rb") as source,
                    path.open("wb") as target,
                ):
                    for chunk in iter(lambda: source.read(1024 * 1024), b""):
                        target.write(chunk)
            local.append(Resource(source=path, name=resource.target_name))
        yield local


def _backoff(attempt: int) -> dt.timedelta:
    # Exponential from 30 s, capped at an hour, with full jitter so retries spread out.
    ceiling = min(3600, 30 * 2 ** max(attempt - 1, 0))
    return dt.timedelta(seconds=random.uniform(ceiling / 2, ceiling))  # noqa: S311


def _finish(
    delivery: Delivery,
    attempt: DeliveryAttempt,
    to: str,
    outcome: str,
    error: str = "",
    **fields: Any,
) -> None:
    with transaction.atomic():
        locked = delivery_lock(pk=delivery.pk)
        assert locked is not None  # deliveries are never deleted while being sent
        _set_status(locked, to, error=error, lease_expires_at=None, **fields)
        finished_at = timezone.now()
        DeliveryAttempt.objects.filter(pk=attempt.pk).update(
            finished_at=finished_at, outcome=outcome, error=error
        )
        if to == DeliveryStatus.DELIVERED:
            metrics.delivery_finished(
                store=locked.store.code, started=attempt.started_at, finished=finished_at
            )


def delivery_send(*, delivery_id: Any, task_id: str = "") -> Delivery | None:
    """Package and upload one delivery. A rerun of a delivery that has moved on does nothing,
    and so does a delivery to a batch-mode store (those go out with `store_batch_send`)."""
    if Delivery.objects.filter(pk=delivery_id, store__delivery_mode=DeliveryMode.BATCH).exists():
        return None
    claimed = _claim(delivery_id, task_id)
    if claimed is None:
        return None
    delivery = claimed[0]
    _send_batch(delivery.batch_id, [claimed])
    delivery.refresh_from_db()
    return delivery


def store_batch_send(*, store_id: Any, task_id: str = "") -> list[Delivery]:
    """Send a batch-mode store's waiting deliveries together: one batch, one marker.

    Deliveries left mid-batch by a crashed run keep their batch id and go out in that batch
    again (the transport overwrites, never duplicates); new ones share a new batch id.
    """
    now = timezone.now()
    waiting = Delivery.objects.filter(store_id=store_id).filter(
        Q(status=DeliveryStatus.QUEUED)
        | Q(status=DeliveryStatus.FAILED, next_attempt_at__lte=now)
        | Q(
            status__in=[DeliveryStatus.PACKAGING, DeliveryStatus.UPLOADING],
            lease_expires_at__lt=now,
        )
    )
    groups: dict[str, list[tuple[Delivery, DeliveryAttempt]]] = {}
    fresh_batch = ""
    for delivery_id in waiting.order_by("created_at").values_list("pk", flat=True):
        claimed = _claim(delivery_id, task_id)
        if claimed is None:
            continue
        delivery = claimed[0]
        if not delivery.batch_id:
            if not fresh_batch:
                fresh_batch = make_batch_id(suffix=delivery.store.code[:20])
            delivery.batch_id = fresh_batch
            delivery.save(update_fields=["batch_id"])
        groups.setdefault(delivery.batch_id, []).append(claimed)
    sent: list[Delivery] = []
    for batch_id, members in groups.items():
        _send_batch(batch_id, members)
        sent.extend(delivery for delivery, _ in members)
    return sent


def _send_batch(batch_id: str, claimed: list[tuple[Delivery, DeliveryAttempt]]) -> None:
    """Build every claimed delivery's message and upload them as one batch."""
    ready: list[tuple[Delivery, DeliveryAttempt, bytes, list[Any]]] = []
    for delivery, attempt in claimed:
        try:
            xml, resources = _build_message(delivery)
        except DeliveryInvalid as exc:
            _finish(
                delivery, attempt, DeliveryStatus.FAILED, "invalid", str(exc), next_attempt_at=None
            )
            continue
        with transaction.atomic():
            locked = delivery_lock(pk=delivery.pk)
            assert locked is not None  # deliveries are never deleted while being sent
            _set_status(locked, DeliveryStatus.UPLOADING, message_xml=xml.decode())
        ready.append((delivery, attempt, xml, resources))
    if not ready:
        return
    store = ready[0][0].store
    try:
        with ExitStack() as stack:
            packages = []
            for delivery, _, xml, resources in ready:
                local = stack.enter_context(_local_files(resources))
                upc = delivery.release.upc
                packages.append(
                    ReleasePackage(
                        folder=upc, xml_name=f"{upc}.xml", xml=xml, resources=tuple(local)
                    )
                )
            transport = stack.enter_context(store_transport(store))
            transport.deliver_batch(Batch(batch_id=batch_id, releases=tuple(packages)))
    except TransientTransportError as exc:
        for delivery, attempt, _, _ in ready:
            gave_up = delivery.attempt_count >= settings.DELIVERY_MAX_ATTEMPTS
            _finish(
                delivery,
                attempt,
                DeliveryStatus.FAILED,
                "gave_up" if gave_up else "retry",
                f"{exc} (attempt {delivery.attempt_count} of {settings.DELIVERY_MAX_ATTEMPTS})",
                next_attempt_at=None
                if gave_up
                else timezone.now() + _backoff(delivery.attempt_count),
            )
        return
    except (PermanentTransportError, ValueError, OSError, ApplicationError) as exc:
        for delivery, attempt, _, _ in ready:
            _finish(
                delivery, attempt, DeliveryStatus.FAILED, "failed", str(exc), next_attempt_at=None
            )
        return
    for delivery, attempt, _, _ in ready:
        _finish(
            delivery, attempt, DeliveryStatus.DELIVERED, "delivered", delivered_at=timezone.now()
        )


def deliveries_retry_due() -> int:
    """Enqueue failed deliveries whose backoff has passed and stalled ones whose lease ran out."""
    from distribution.tasks import delivery_send as send_task

    now = timezone.now()
    due = (
        Delivery.objects.filter(
            Q(status=DeliveryStatus.FAILED, next_attempt_at__lte=now)
            | Q(
                status__in=[DeliveryStatus.PACKAGING, DeliveryStatus.UPLOADING],
                lease_expires_at__lt=now,
            )
        )
        # Batch-mode stores' deliveries go out together: see store_batch_send.
        .filter(store__delivery_mode=DeliveryMode.RELEASE)
        .values_list("pk", flat=True)
    )
    count = 0
    for delivery_id in due:
        send_task.delay(str(delivery_id))
        count += 1
    return count


def release_preview(*, release: Release, store: Store) -> tuple[str, list[str]]:
    """The exact ERN message this store would receive now, and why it would be refused."""
    preview = Delivery(
        organization_id=release.organization_id,
        release=release,
        store=store,
        kind=DeliveryKind.INSERT,
        message_id=f"PREVIEW-{uuid.uuid4().hex}",
    )
    try:
        xml, _ = _build_message(preview)
    except DeliveryInvalid as exc:
        return "", str(exc).splitlines()
    return xml.decode(), []


def releases_mark_live(*, today: dt.date | None = None) -> int:
    """Mark delivered releases whose release date has come as live, once, with an event."""
    today = today or timezone.localdate()
    marked = 0
    due = Release.objects.filter(
        status=ReleaseStatus.DELIVERED, went_live_at__isnull=True, release_date__lte=today
    ).values_list("pk", flat=True)
    for release_id in due:
        with transaction.atomic():
            now = timezone.now()
            updated = Release.objects.filter(pk=release_id, went_live_at__isnull=True).update(
                went_live_at=now, updated_at=now
            )
            if not updated:
                continue  # another run got there first
            release = Release.objects.get(pk=release_id)
            publish(
                organization_id=release.organization_id,
                type="release.live",
                subject_type="release",
                subject_id=release.pk,
                release_id=release.pk,
                data={"release_date": str(release.release_date)},
            )
            marked += 1
    return marked


def store_batches_due() -> int:
    """Enqueue a batch send for every active batch-mode store with deliveries waiting."""
    from distribution.tasks import store_batch_send as batch_task

    now = timezone.now()
    stores = (
        Store.objects.filter(is_active=True, delivery_mode=DeliveryMode.BATCH)
        .filter(
            Q(deliveries__status=DeliveryStatus.QUEUED)
            | Q(deliveries__status=DeliveryStatus.FAILED, deliveries__next_attempt_at__lte=now)
            | Q(
                deliveries__status__in=[DeliveryStatus.PACKAGING, DeliveryStatus.UPLOADING],
                deliveries__lease_expires_at__lt=now,
            )
        )
        .distinct()
        .values_list("pk", flat=True)
    )
    count = 0
    for store_id in stores:
        batch_task.delay(str(store_id))
        count += 1
    return count
