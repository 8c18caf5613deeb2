"""Property: over randomized reports (imported as files, through the whole import) and splits,
every statement adds up to the report lines it traces to, for every payee, no cent is made or
lost between payees, every payment is on its payee's statement, and what no split covers is
listed as unallocated: statements and unallocated together are every matched line, to the
cent.

PostgreSQL only: its numeric type is exact at 20 decimal places; SQLite (the embedded
profile) stores decimals as 64-bit floats, exact to about 15 significant digits."""

from __future__ import annotations

import datetime as dt
import io
from collections import defaultdict
from decimal import Decimal

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accounts.tests.factories import OrganizationFactory
from distribution.tests.factories import ReleaseFactory, TrackFactory
from royalties import selectors
from royalties.models import (
    AccountingPeriod,
    ExchangeRate,
    Payee,
    SalesLine,
    Statement,
)
from royalties.money import CENT, convert, to_cents
from royalties.services import money, payments, statements
from royalties.services.reports import (
    received_from_stream,
    sales_report_import,
    sales_report_upload,
)

MARCH = dt.date(2026, 3, 1)

amounts = st.decimals(min_value=Decimal("-5"), max_value=Decimal("50"), places=10, allow_nan=False)
sale = st.tuples(
    st.integers(0, 3),  # track index; 3 = release-level line
    st.sampled_from(["s1", "s2"]),
    st.sampled_from(["DE", "FR", "US"]),
    st.sampled_from(["EUR", "USD"]),
    st.integers(0, 10_000),
    amounts,
)
weights = st.lists(st.integers(1, 997), min_size=1, max_size=4)


def percents(raw: list[int]) -> list[Decimal]:
    total = sum(raw)
    shares = [(Decimal(100) * w / total).quantize(Decimal("0.0001")) for w in raw]
    shares[-1] += Decimal(100) - sum(shares)
    return shares


class Rollback(Exception):
    pass


@pytest.mark.services
@pytest.mark.django_db
@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    sales=st.lists(sale, min_size=1, max_size=40),
    # Per target (three tracks, then the release): its split set, or none (its earnings are
    # then on no statement, but listed as unallocated).
    split_weights=st.lists(st.one_of(st.none(), weights, weights), min_size=4, max_size=4),
    usd_rate=st.decimals(min_value=Decimal("0.0001"), max_value=Decimal("3"), places=10),
    # Payments in March: (payee index, amount; negative: money returned).
    paid=st.lists(
        st.tuples(
            st.integers(0, 3),
            st.decimals(min_value=Decimal("-100"), max_value=Decimal("100"), places=2).filter(
                lambda amount: amount != 0
            ),
        ),
        max_size=4,
    ),
)
def test_statement_totals_equal_their_traced_lines(sales, split_weights, usd_rate, paid):
    try:
        with transaction.atomic():
            _check(sales, split_weights, usd_rate, paid)
            raise Rollback
    except Rollback:
        pass


def _check(sales, split_weights, usd_rate, paid):
    org = OrganizationFactory(default_currency="EUR")
    release = ReleaseFactory(organization=org)
    tracks = [TrackFactory(release=release, track_number=n) for n in (1, 2, 3)]
    payees = [Payee.objects.create(organization=org, name=f"P{i}") for i in range(4)]
    for index, raw in enumerate(split_weights):
        if raw is None:
            continue
        target = {"track": tracks[index]} if index < 3 else {"release": release}
        chosen = payees[index % 2 : index % 2 + len(raw)] or payees[:1]
        shares = percents(raw[: len(chosen)])
        money.splits_set(
            organization=org,
            valid_from=MARCH,
            shares=list(zip(chosen, shares, strict=True)),
            **target,
        )
    ExchangeRate.objects.create(organization=org, currency="USD", month=MARCH, rate=usd_rate)
    # Through the real import: upload, columnar checks, products, COPY.
    content = ["store,period,territory,isrc,upc,usage_type,quantity,gross,net,currency"]
    content += [
        f"{store},2026-03,{territory},{tracks[t].isrc if t < 3 else ''},"
        f"{release.upc if t == 3 else ''},stream,{quantity},{net},{net},{currency}"
        for t, store, territory, currency, quantity, net in sales
    ]
    upload = received_from_stream(
        io.BytesIO(("\n".join(content) + "\n").encode()), filename="report.csv"
    )
    report = sales_report_upload(
        organization=org, upload=upload, store_code="teststore", enqueue=False
    )
    sales_report_import(report_id=report.pk)
    report.refresh_from_db()
    assert report.status == "imported", report.error
    assert (report.lines_loaded, report.lines_matched) == (len(sales), len(sales))
    period = AccountingPeriod.objects.get(organization=org, month=MARCH)
    rates = {"EUR": Decimal(1), "USD": usd_rate}

    paid_to: dict[object, Decimal] = defaultdict(Decimal)
    for index, amount in paid:
        payments.payment_record(
            organization=org, payee=payees[index], amount=amount, paid_on=dt.date(2026, 3, 9)
        )
        paid_to[payees[index].pk] += amount

    statements.statements_generate(period=period)

    on_statements = {s.payee_id: s.payments for s in Statement.objects.filter(period=period)}
    for payee_id, amount in paid_to.items():  # every payment is on its payee's statement
        assert on_statements.get(payee_id, Decimal(0)) == amount

    by_group: dict[tuple, Decimal] = defaultdict(Decimal)
    group_totals: dict[tuple, Decimal] = {}
    for statement in Statement.objects.filter(period=period):
        lines = list(statement.lines.all())
        assert statement.earnings == sum((line.amount for line in lines), Decimal(0))
        assert statement.closing_balance == (
            statement.opening_balance
            + statement.earnings
            - statement.recoupment
            - statement.payments
        )
        for line in lines:
            traced = list(selectors.statement_line_trace(line))
            exact = sum((convert(t.net, rates[t.currency]) for t in traced), Decimal(0))
            assert len(traced) == line.sales_lines
            assert exact == line.group_total
            assert abs(line.amount - exact * line.percent / 100) < CENT
            key = (line.track_id, line.release_id, line.store, line.territory)
            by_group[key] += line.amount
            group_totals[key] = exact
    for key, paid in by_group.items():
        assert paid == to_cents(group_totals[key])
    # Every matched line is on some statement or unallocated, and every cent is either paid
    # or listed as unallocated.
    unallocated = statements.period_unallocated(period=period)
    assert not unallocated.groups.keys() & by_group.keys()
    for key, group in unallocated.groups.items():
        target = 3 if key[0] is None else [t.pk for t in tracks].index(key[0])
        assert split_weights[target] is None
        group_totals[key] = group.total
    on_statements = sum(
        (statement.earnings for statement in Statement.objects.filter(period=period)), Decimal(0)
    )
    exact_all = sum(
        (
            convert(line.net, rates[line.currency])
            for line in SalesLine.objects.filter(product__period=period)
        ),
        Decimal(0),
    )
    assert on_statements + unallocated.total == sum(
        (to_cents(total) for total in group_totals.values()), Decimal(0)
    )
    assert sum(group_totals.values(), Decimal(0)) == exact_all
    traced_ids = set()
    for key in group_totals:
        traced_ids |= {
            line.pk
            for line in SalesLine.objects.filter(
                product__period=period,
                product__track_id=key[0],
                product__release_id=key[1],
                store=key[2],
                territory=key[3],
            )
        }
    period_lines = SalesLine.objects.filter(product__period=period)
    assert traced_ids == set(period_lines.values_list("pk", flat=True))
    assert len(traced_ids) == len(sales)
