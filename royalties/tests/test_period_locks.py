"""A period cannot close under what is being added to it: an import (or a hand match) holds
the period until it commits, and one that meets a close in progress waits for it and then
goes into the next open period. Another PostgreSQL session plays the concurrent close."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg
import pytest
from django.db import connection
from django.utils import timezone

from royalties.models import AccountingPeriod, ReportProduct, SalesLine
from royalties.services.reports import (
    report_product_match,
    sales_report_import,
    sales_report_upload_path_file,
)
from royalties.services.statements import period_close
from royalties.tests import files
from royalties.tests.files import Sale

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]
MARCH, APRIL = dt.date(2026, 3, 1), dt.date(2026, 4, 1)
LOCK_FOR_CLOSING = "SELECT id FROM royalties_accountingperiod WHERE id = %s FOR UPDATE NOWAIT"


@pytest.fixture
def other_session() -> Iterator[psycopg.Connection[Any]]:
    """A second database session, as a worker closing the period would have."""
    settings = connection.settings_dict
    with psycopg.connect(
        host=settings["HOST"] or None,
        port=settings["PORT"] or None,
        user=settings["USER"] or None,
        password=settings["PASSWORD"] or None,
        dbname=settings["NAME"],
    ) as session:
        yield session


def _upload(catalog: Any, tmp_path: Path, sales: list[Sale], name: str = "march.csv") -> Any:
    path = tmp_path / name
    path.write_bytes(files.canonical(sales))
    return sales_report_upload_path_file(
        organization=catalog.organization, path=path, store_code="spotify", enqueue=False
    )


def _closing_in_progress(session: psycopg.Connection[Any], period: AccountingPeriod) -> None:
    """The other session closes `period` and commits half a second later."""
    session.execute(LOCK_FOR_CLOSING.replace(" NOWAIT", ""), [period.pk])
    session.execute(
        "UPDATE royalties_accountingperiod SET closed_at = %s WHERE id = %s",
        [timezone.now(), period.pk],
    )
    threading.Timer(0.5, session.commit).start()


def test_a_period_cannot_close_while_an_import_adds_to_it(
    catalog: Any, tmp_path: Path, other_session: psycopg.Connection[Any]
) -> None:
    report = _upload(
        catalog, tmp_path, [Sale(catalog.track_a.isrc, "", "DE", "stream", 4, "1", "2.5")]
    )
    march = AccountingPeriod.objects.create(organization=catalog.organization, month=MARCH)
    attempts: list[str] = []

    def try_to_close(_lines: int) -> None:  # called while the import's transaction is open
        try:
            with other_session.transaction():
                other_session.execute(LOCK_FOR_CLOSING, [march.pk])
            attempts.append("closable")
        except psycopg.errors.LockNotAvailable:
            attempts.append("held by the import")

    sales_report_import(report_id=report.pk, progress=try_to_close)

    assert attempts and set(attempts) == {"held by the import"}
    # Committed: the close goes ahead, and counts the import's line.
    closed = period_close(period=march)
    assert closed.is_closed
    assert closed.statements.count() == 0  # no splits: the line is unallocated, but counted
    assert SalesLine.objects.filter(product__period=march).count() == 1
    with other_session.transaction():
        assert other_session.execute(LOCK_FOR_CLOSING, [march.pk]).fetchone() == (march.pk,)


def test_an_import_meeting_a_close_in_progress_goes_into_the_next_period(
    catalog: Any, tmp_path: Path, other_session: psycopg.Connection[Any]
) -> None:
    march = AccountingPeriod.objects.create(organization=catalog.organization, month=MARCH)
    report = _upload(
        catalog, tmp_path, [Sale(catalog.track_a.isrc, "", "DE", "stream", 4, "1", "2.5")]
    )
    _closing_in_progress(other_session, march)

    sales_report_import(report_id=report.pk)  # waits for the close to commit

    report.refresh_from_db()
    assert report.period == MARCH  # the sales month, as the file says
    assert report.accounting_period.month == APRIL  # counted in the next open period
    assert ReportProduct.objects.get(report=report).period.month == APRIL


def test_a_hand_match_meeting_a_close_in_progress_goes_into_the_next_period(
    catalog: Any, tmp_path: Path, other_session: psycopg.Connection[Any]
) -> None:
    report = _upload(catalog, tmp_path, [Sale("USXYZ2600001", "", "DE", "stream", 4, "1", "2.5")])
    sales_report_import(report_id=report.pk)
    product = ReportProduct.objects.get(report=report)
    assert product.period.month == MARCH and product.release_id is None
    _closing_in_progress(other_session, product.period)

    matched = report_product_match(product=product, track=catalog.track_a)

    assert matched.period.month == APRIL
    product.refresh_from_db()
    assert (product.track_id, product.period.month) == (catalog.track_a.pk, APRIL)


def test_a_payment_meeting_a_close_in_progress_goes_into_the_next_period(
    catalog: Any, other_session: psycopg.Connection[Any]
) -> None:
    from royalties.services import money, payments

    payee = money.payee_create(organization=catalog.organization, name="Alice")
    march = AccountingPeriod.objects.create(organization=catalog.organization, month=MARCH)
    _closing_in_progress(other_session, march)

    paid = payments.payment_record(
        organization=catalog.organization,
        payee=payee,
        amount=Decimal("5.00"),
        paid_on=dt.date(2026, 3, 30),
    )

    assert paid.period.month == APRIL
