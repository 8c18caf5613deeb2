"""Accounting periods: months of the books, closed once their statements are final."""

from __future__ import annotations

import datetime as dt
import uuid

from django.db import connection

from accounts.models import Organization
from enterprise_suite.errors import InvalidTransition
from royalties.models import AccountingPeriod
from royalties.selectors import period_of_month


def first_of_month(day: dt.date) -> dt.date:
    return day.replace(day=1)


def next_month(month: dt.date) -> dt.date:
    return (month.replace(day=28) + dt.timedelta(days=4)).replace(day=1)


def _latest_closed_month(organization: Organization) -> dt.date | None:
    return (
        AccountingPeriod.objects.filter(organization=organization, closed_at__isnull=False)
        .order_by("-month")
        .values_list("month", flat=True)
        .first()
    )


def period_open(*, organization: Organization, month: dt.date) -> AccountingPeriod:
    """The organization's period for `month`, opened if it has none. A month at or before
    the latest closed period that has none is refused (409): it would open behind final
    statements (its sales count in the first open period after)."""
    month = first_of_month(month)
    existing = period_of_month(organization=organization, month=month)
    if existing is not None:
        return existing
    latest_closed = _latest_closed_month(organization)
    if latest_closed is not None and month <= latest_closed:
        raise InvalidTransition(
            f"{month:%Y-%m} is before the latest closed period, {latest_closed:%Y-%m}: its "
            f"sales count in the first open period after it.",
            details={"latest_closed": f"{latest_closed:%Y-%m}"},
        )
    period, _ = AccountingPeriod.objects.get_or_create(organization=organization, month=month)
    return period


def accounting_period_for(
    *, organization: Organization, month: dt.date, lock: bool = False
) -> AccountingPeriod:
    """The period sales of `month` count in: that month's, or if it is closed, the first open
    month after it (a late report goes into the next period). Nothing counts behind the
    latest closed period either: a report for a month before it that had no period yet goes
    into the first open month after it, since later statements are final and their opening
    balances must not change.

    `lock`, inside the transaction that adds sales (or payments) to the period: its row is
    share-locked until that transaction ends. Closing locks it for update, so a close waits
    for what is being added to commit and then counts it, and what starts while a close is
    in progress waits for it and then goes into the next open period. Without the lock, an
    import committing just after a close would leave its lines in a closed period, on no
    statement."""
    current = first_of_month(month)
    latest_closed = _latest_closed_month(organization)
    if latest_closed is not None and current <= latest_closed:
        current = next_month(latest_closed)
    while True:
        period, _ = AccountingPeriod.objects.get_or_create(organization=organization, month=current)
        if lock:
            period = period_share_locked(period.pk)
        if not period.is_closed:
            return period
        current = next_month(current)


def period_share_locked(period_id: uuid.UUID) -> AccountingPeriod:
    """The period read under a share lock: any number of imports may hold it at once, a
    close (FOR UPDATE) excludes them all. SQLite has no row locks: it lets one transaction
    write at a time."""
    if connection.vendor != "postgresql":
        return AccountingPeriod.objects.get(pk=period_id)
    table = AccountingPeriod._meta.db_table
    # The ORM has FOR UPDATE and FOR NO KEY UPDATE, which would also make imports of one
    # month wait for each other; FOR SHARE does not.
    query = f"SELECT * FROM {table} WHERE id = %s FOR SHARE"  # noqa: S608  (the model's table)
    return AccountingPeriod.objects.raw(query, [period_id])[0]
