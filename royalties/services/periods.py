"""Accounting periods: months of the books, closed once their statements are final."""

from __future__ import annotations

import datetime as dt

from accounts.models import Organization
from royalties.models import AccountingPeriod


def first_of_month(day: dt.date) -> dt.date:
    return day.replace(day=1)


def next_month(month: dt.date) -> dt.date:
    return (month.replace(day=28) + dt.timedelta(days=4)).replace(day=1)


def accounting_period_for(*, organization: Organization, month: dt.date) -> AccountingPeriod:
    """The period sales of `month` count in: that month's, or if it is closed, the first open
    month after it (a late report goes into the next period)."""
    current = first_of_month(month)
    while True:
        period, _ = AccountingPeriod.objects.get_or_create(organization=organization, month=current)
        if not period.is_closed:
            return period
        current = next_month(current)
