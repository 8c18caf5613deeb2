"""Statements: splits, conversion, recoupment, balances, closing, late reports, traces."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from enterprise_suite.errors import InvalidTransition, ValidationFailed
from royalties import selectors
from royalties.choices import StatementStatus
from royalties.models import AccountingPeriod, Payee, Statement
from royalties.money import allocate
from royalties.services import money, statements
from royalties.tests import files
from royalties.tests.conftest import rate
from royalties.tests.files import Sale

MARCH, APRIL = dt.date(2026, 3, 1), dt.date(2026, 4, 1)


@pytest.fixture
def payees(catalog):
    org = catalog.organization
    alice = money.payee_create(organization=org, name="Alice")
    bob = money.payee_create(organization=org, name="Bob")
    label = money.payee_create(organization=org, name="Label")
    jan = dt.date(2026, 1, 1)
    money.splits_set(
        organization=org,
        track=catalog.track_a,
        valid_from=jan,
        shares=[(alice, Decimal(50)), (bob, Decimal(50))],
    )
    money.splits_set(
        organization=org, track=catalog.track_b, valid_from=jan, shares=[(alice, Decimal(100))]
    )
    money.splits_set(
        organization=org, release=catalog.release, valid_from=jan, shares=[(label, Decimal(100))]
    )
    return alice, bob, label


def march_sales(c) -> list[Sale]:
    return [
        Sale(c.track_a.isrc, "", "DE", "stream", 1000, "4.12", "3.0000000001"),
        Sale(c.track_a.isrc, "", "DE", "stream", 2, "0.01", "0.005"),
        Sale(c.track_b.isrc, "", "FR", "stream", 250, "1.00", "0.7512345678"),
        Sale("", c.release.upc, "DE", "download", 2, "19.98", "13.99"),
    ]


def by_name(period) -> dict[str, Statement]:
    return {
        s.payee.name: s for s in Statement.objects.filter(period=period).select_related("payee")
    }


def test_statements_to_the_cent_with_recoupment(catalog, import_file, payees):
    alice, bob, _label = payees
    money.expense_create(
        organization=catalog.organization,
        release=catalog.release,
        description="Mastering",
        amount=Decimal("5.00"),
        incurred_on=dt.date(2026, 2, 1),
    )
    report = import_file(catalog.organization, files.canonical(march_sales(catalog)))
    period = report.accounting_period
    assert period.month == MARCH

    statements.statements_generate(period=period)
    got = by_name(period)
    # Groups: A/DE 3.0050000001 -> 3.01, B/FR 0.7512345678 -> 0.75, release/DE 13.99.
    # Recoupment 5.00 over 3.01 : 0.75 : 13.99 by largest remainder -> 0.85, 0.21, 3.94.
    first, second = sorted([alice, bob], key=lambda p: p.pk)
    a_share = {first.name: Decimal("1.51"), second.name: Decimal("1.50")}
    a_recoup = {first.name: Decimal("0.43"), second.name: Decimal("0.42")}
    assert got["Alice"].earnings == a_share["Alice"] + Decimal("0.75")
    assert got["Bob"].earnings == a_share["Bob"]
    assert got["Label"].earnings == Decimal("13.99")
    assert got["Alice"].recoupment == a_recoup["Alice"] + Decimal("0.21")
    assert got["Bob"].recoupment == a_recoup["Bob"]
    assert got["Label"].recoupment == Decimal("3.94")
    assert sum(s.earnings for s in got.values()) == Decimal("17.75")
    assert sum(s.recoupment for s in got.values()) == Decimal("5.00")
    assert got["Label"].closing_balance == Decimal("10.05")
    for statement in got.values():
        assert statement.opening_balance == 0
        assert statement.closing_balance == statement.earnings - statement.recoupment
        assert statement.status == StatementStatus.DRAFT
        assert statement.currency == "EUR"

    # Generating again gives the same statements (drafts are rebuilt, not added to).
    statements.statements_generate(period=period)
    assert {n: s.closing_balance for n, s in by_name(period).items()} == {
        n: s.closing_balance for n, s in got.items()
    }
    assert Statement.objects.count() == 3


def test_closed_period_is_final_and_a_late_report_goes_into_the_next(catalog, import_file, payees):
    money.expense_create(
        organization=catalog.organization,
        release=catalog.release,
        description="Video",
        amount=Decimal("20.00"),
        incurred_on=dt.date(2026, 2, 1),
    )
    report = import_file(catalog.organization, files.canonical(march_sales(catalog)))
    march = report.accounting_period
    statements.period_close(period=march)
    march.refresh_from_db()
    assert march.is_closed
    march_label = by_name(march)["Label"]
    assert march_label.status == StatementStatus.FINAL
    # All 17.75 went to recoupment: nothing paid, 2.25 still to recoup.
    assert sum(s.recoupment for s in by_name(march).values()) == Decimal("17.75")
    with pytest.raises(InvalidTransition):
        statements.statements_generate(period=march)
    with pytest.raises(InvalidTransition):
        statements.period_close(period=march)

    late = [Sale("", catalog.release.upc, "DE", "download", 1, "9.99", "7.00")]
    late_report = import_file(catalog.organization, files.canonical(late, month="2026-03"))
    assert late_report.period == MARCH
    assert late_report.accounting_period.month == APRIL
    statements.statements_generate(period=late_report.accounting_period)
    april = by_name(late_report.accounting_period)
    assert april["Label"].opening_balance == march_label.closing_balance == Decimal("0.00")
    assert april["Label"].earnings == Decimal("7.00")
    assert april["Label"].recoupment == Decimal("2.25")
    assert april["Label"].closing_balance == Decimal("4.75")
    # March did not change.
    assert by_name(march)["Label"].updated_at == march_label.updated_at


def test_conversion_uses_the_sale_months_rate_and_missing_rates_block(catalog, import_file, payees):
    usd = [Sale(catalog.track_b.isrc, "", "US", "stream", 100, "1", "2.5", currency="USD")]
    report = import_file(catalog.organization, files.canonical(usd))
    with pytest.raises(ValidationFailed) as caught:
        statements.statements_generate(period=report.accounting_period)
    assert caught.value.code == "missing_exchange_rates"
    assert caught.value.details == {"missing": ["USD 2026-03"]}
    rate(catalog.organization, "USD", MARCH, "0.9123")
    statements.statements_generate(period=report.accounting_period)
    # 2.5 x 0.9123 = 2.28075 -> 2.28 (half even)
    assert by_name(report.accounting_period)["Alice"].earnings == Decimal("2.28")


def test_newest_split_valid_on_the_period_applies(catalog, import_file, payees):
    alice, bob, _ = payees
    money.splits_set(
        organization=catalog.organization,
        track=catalog.track_b,
        valid_from=dt.date(2026, 3, 15),
        shares=[(bob, Decimal("100"))],
    )
    money.splits_set(
        organization=catalog.organization,
        track=catalog.track_b,
        valid_from=dt.date(2026, 5, 1),
        shares=[(alice, Decimal("100"))],
    )
    sale = [Sale(catalog.track_b.isrc, "", "FR", "stream", 1, "1", "1.00")]
    report = import_file(catalog.organization, files.canonical(sale))
    statements.statements_generate(period=report.accounting_period)
    assert set(by_name(report.accounting_period)) == {"Bob"}


@pytest.mark.parametrize(
    ("shares", "message"),
    [
        ([Decimal(50), Decimal("49.9999")], "sum to 99.9999"),
        ([Decimal(100), Decimal(0)], "above 0"),
    ],
)
def test_splits_must_sum_to_100(catalog, shares, message):
    org = catalog.organization
    people = [Payee.objects.create(organization=org, name=f"P{i}") for i in range(len(shares))]
    with pytest.raises(ValidationFailed, match=message):
        money.splits_set(
            organization=org,
            track=catalog.track_a,
            valid_from=MARCH,
            shares=list(zip(people, shares, strict=True)),
        )


def test_trace_leads_back_to_the_report_lines(catalog, import_file, payees):
    report = import_file(catalog.organization, files.canonical(march_sales(catalog)))
    statements.statements_generate(period=report.accounting_period)
    bob = by_name(report.accounting_period)["Bob"]
    (line,) = bob.lines.all()
    traced = list(selectors.statement_line_trace(line))
    assert [t.line_number for t in traced] == [2, 3]
    assert sum(t.net for t in traced) == line.group_total == Decimal("3.0050000001")


def test_allocate_never_makes_or_loses_a_cent():
    assert allocate(Decimal("0.01"), [Decimal(1)] * 3) == [Decimal("0.01"), Decimal(0), Decimal(0)]
    assert sum(allocate(Decimal("-10.00"), [Decimal(1)] * 3)) == Decimal("-10.00")
    assert allocate(
        Decimal("1.00"), [Decimal("33.3333"), Decimal("33.3333"), Decimal("33.3334")]
    ) == [Decimal("0.33"), Decimal("0.33"), Decimal("0.34")]


def test_a_line_matched_by_hand_after_its_period_closed_counts_in_the_next(
    catalog, import_file, payees
):
    from royalties.services.reports import report_product_match

    stranger = [Sale("USXYZ2600001", "", "DE", "stream", 3, "1", "2.00")]
    report = import_file(catalog.organization, files.canonical(stranger))
    march = report.accounting_period
    statements.period_close(period=march)
    product = report.products.get()
    matched = report_product_match(product=product, track=catalog.track_b)
    assert matched.period.month == APRIL
    april = AccountingPeriod.objects.get(organization=catalog.organization, month=APRIL)
    statements.statements_generate(period=april)
    assert by_name(april)["Alice"].earnings == Decimal("2.00")
    assert not Statement.objects.filter(period=march, payee__name="Alice").exists()


@pytest.mark.parametrize("target", ["track", "release"])
def test_a_payee_has_one_share_per_target_and_date_in_the_database(catalog, target):
    """The last line of defence behind splits_set (one of track/release is always NULL)."""
    from django.db import IntegrityError, transaction

    from royalties.models import Split

    payee = Payee.objects.create(organization=catalog.organization, name="A")
    on = {"track": catalog.track_a} if target == "track" else {"release": catalog.release}
    row = {"organization": catalog.organization, "payee": payee, "valid_from": dt.date(2026, 1, 1)}
    Split.objects.create(percent=Decimal(60), **row, **on)
    with pytest.raises(IntegrityError), transaction.atomic():
        Split.objects.create(percent=Decimal(40), **row, **on)
    assert Split.objects.count() == 1


def test_regenerating_keeps_ids_and_touches_only_changed_statements(catalog, import_file, payees):
    report = import_file(catalog.organization, files.canonical(march_sales(catalog)))
    period = report.accounting_period
    statements.statements_generate(period=period)
    before = {name: (s.pk, s.earnings, s.updated_at) for name, s in by_name(period).items()}

    # More sales of track B, which pays Alice alone.
    import_file(
        catalog.organization,
        files.canonical(
            [Sale(catalog.track_b.isrc, "", "FR", "stream", 10, "1", "1.25")], store="deezer"
        ),
    )
    statements.statements_generate(period=period)
    after = {name: (s.pk, s.earnings, s.updated_at) for name, s in by_name(period).items()}

    assert {name: ids[0] for name, ids in after.items()} == {
        name: ids[0] for name, ids in before.items()
    }
    assert after["Alice"][1] == before["Alice"][1] + Decimal("1.25")
    assert after["Alice"][2] > before["Alice"][2]
    for unchanged in ("Bob", "Label"):
        assert after[unchanged] == before[unchanged]
    alice = Statement.objects.get(pk=after["Alice"][0])
    assert sum(line.amount for line in alice.lines.all()) == alice.earnings


def test_periods_close_in_order(catalog, import_file, payees, make_caller):
    """April's opening balances are March's closing ones: April cannot be final while March
    can still change."""
    alice = payees[0]
    import_file(catalog.organization, files.canonical(march_sales(catalog)))
    import_file(catalog.organization, files.canonical(march_sales(catalog)[:1], month="2026-04"))
    march, april = (
        AccountingPeriod.objects.get(organization=catalog.organization, month=month)
        for month in (MARCH, APRIL)
    )

    with pytest.raises(InvalidTransition, match="Close 2026-03 first") as refused:
        statements.period_close(period=april)
    assert refused.value.details == {"open_periods": ["2026-03"]}
    april.refresh_from_db()
    assert not april.is_closed and not Statement.objects.filter(period=april).exists()
    caller = make_caller(organization=catalog.organization)
    answer = caller.client.post(f"/api/v1/accounting-periods/{april.pk}/close/")
    assert answer.status_code == 409 and answer.json()["error"]["details"]["open_periods"]

    statements.period_close(period=march)
    statements.period_close(period=april)

    march_alice = Statement.objects.get(period=march, payee=alice)
    april_alice = Statement.objects.get(period=april, payee=alice)
    assert april_alice.opening_balance == march_alice.closing_balance
    assert april_alice.status == StatementStatus.FINAL


def test_a_report_for_a_month_before_a_closed_period_counts_after_it(catalog, import_file, payees):
    """February had no period when March closed: its report cannot open February behind a
    final March; it counts in April, the first open period after March."""
    import_file(catalog.organization, files.canonical(march_sales(catalog)))
    statements.period_close(
        period=AccountingPeriod.objects.get(organization=catalog.organization, month=MARCH)
    )

    february = import_file(
        catalog.organization, files.canonical(march_sales(catalog)[:1], month="2026-02")
    )

    assert february.period == dt.date(2026, 2, 1)  # the sales month, as the file says
    assert february.accounting_period.month == APRIL
    assert not AccountingPeriod.objects.filter(month=dt.date(2026, 2, 1)).exists()


def test_a_month_behind_the_latest_closed_period_cannot_be_opened(catalog, make_caller):
    caller = make_caller(organization=catalog.organization)
    opened = caller.client.post("/api/v1/accounting-periods/", {"month": "2026-03"}, format="json")
    assert opened.status_code == 201
    again = caller.client.post("/api/v1/accounting-periods/", {"month": "2026-03"}, format="json")
    assert again.json()["id"] == opened.json()["id"]  # its period, not a second one
    march = AccountingPeriod.objects.get(pk=opened.json()["id"])
    statements.period_close(period=march)

    refused = caller.client.post("/api/v1/accounting-periods/", {"month": "2026-02"}, format="json")

    assert refused.status_code == 409
    assert refused.json()["error"]["details"] == {"latest_closed": "2026-03"}
    assert AccountingPeriod.objects.filter(organization=catalog.organization).count() == 1
    later = caller.client.post("/api/v1/accounting-periods/", {"month": "2026-05"}, format="json")
    assert later.status_code == 201 and later.json()["month"] == "2026-05"
