"""One lock order, release then delivery, on PostgreSQL: a delivery's status change waits for
its release without holding the delivery, so it cannot deadlock with a takedown or approval
(which lock the release, then its deliveries)."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from django.db import OperationalError, connection, connections, transaction

from accounts.tests.factories import OrganizationFactory
from distribution.choices import DeliveryKind, DeliveryStatus, ReleaseStatus, TransportKind
from distribution.models import Delivery, DeliveryAttempt, Release, Store
from distribution.services.acknowledgements import delivery_acknowledge
from distribution.services.delivery import _finish
from distribution.tests.factories import ReleaseFactory

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


def _delivery(status: str) -> tuple[Delivery, DeliveryAttempt]:
    release = ReleaseFactory(organization=OrganizationFactory(), status=ReleaseStatus.DELIVERING)
    store = Store.objects.create(
        code=f"s{uuid.uuid4().hex[:6]}", name="S", dpid="PADPIDA0000000001X",
        transport=TransportKind.FILESYSTEM,
    )  # fmt: skip
    delivery = Delivery.objects.create(
        organization_id=release.organization_id,
        release=release,
        store=store,
        kind=DeliveryKind.INSERT,
        status=status,
        message_id=f"ES-{uuid.uuid4().hex}",
    )
    return delivery, DeliveryAttempt.objects.create(delivery=delivery, task_id="t")


def _waiting_on_a_lock() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
        )
        return int(cursor.fetchone()[0])


def _delivery_is_free(delivery: Delivery) -> bool:
    try:
        with transaction.atomic():
            list(Delivery.objects.select_for_update(nowait=True).filter(pk=delivery.pk))
        return True
    except OperationalError:  # "could not obtain lock": someone holds the delivery
        return False


def _in_thread(work: Callable[[], Any], errors: list[BaseException]) -> threading.Thread:
    def run() -> None:
        try:
            work()
        except BaseException as exc:  # reported by the test
            errors.append(exc)
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


@pytest.mark.parametrize(
    ("start", "change"),
    [
        (
            DeliveryStatus.UPLOADING,
            lambda d, a: _finish(d, a, DeliveryStatus.DELIVERED, "delivered"),
        ),
        (
            DeliveryStatus.DELIVERED,
            lambda d, a: delivery_acknowledge(
                store=d.store, message_id=d.message_id, accepted=True, text="ok"
            ),
        ),
    ],
    ids=["finish", "acknowledge"],
)
def test_a_delivery_change_waits_for_its_release_without_holding_the_delivery(
    start: str, change: Callable[[Delivery, DeliveryAttempt], Any]
) -> None:
    delivery, attempt = _delivery(start)
    holding, release_it = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def takedown_like() -> None:  # holds the release, as approval and takedown do
        with transaction.atomic():
            Release.objects.select_for_update().get(pk=delivery.release_id)
            holding.set()
            release_it.wait(10)

    holder = _in_thread(takedown_like, errors)
    assert holding.wait(10)
    changer = _in_thread(lambda: change(delivery, attempt), errors)
    deadline = time.monotonic() + 10
    while _waiting_on_a_lock() == 0 and time.monotonic() < deadline:
        time.sleep(0.02)
    try:
        assert _waiting_on_a_lock() == 1  # the change is blocked on the release ...
        assert _delivery_is_free(delivery)  # ... and holds nothing the holder could need
    finally:
        release_it.set()
        holder.join(10)
        changer.join(10)
    assert errors == []
    delivery.refresh_from_db()
    expected = {
        DeliveryStatus.UPLOADING: DeliveryStatus.DELIVERED,
        DeliveryStatus.DELIVERED: DeliveryStatus.ACKNOWLEDGED,
    }[start]
    assert delivery.status == expected
    if start == DeliveryStatus.UPLOADING:  # left the active states: the release followed
        assert Release.objects.get(pk=delivery.release_id).status == ReleaseStatus.DELIVERED
