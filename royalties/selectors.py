"""Royalties reads, always scoped to one organization."""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import Count, QuerySet, Sum

from accounts.models import Organization
from distribution.models import Release, Track
from enterprise_suite.selectors import get_or_not_found
from royalties.choices import EarningsGroup
from royalties.models import (
    LINE_NUMBER,
    AccountingPeriod,
    ExchangeRate,
    Payee,
    Payment,
    RecoupableExpense,
    ReportProduct,
    SalesLine,
    SalesLineBlock,
    SalesReport,
    Split,
    Statement,
    StatementLine,
)
from royalties.money import convert, rates_for, to_cents


def sales_report_list(*, organization: Organization) -> QuerySet[SalesReport]:
    return SalesReport.objects.filter(organization=organization)


def sales_report_get(*, organization: Organization, report_id: Any) -> SalesReport:
    return get_or_not_found(sales_report_list(organization=organization), report_id, "report")


def sales_line_list(*, organization: Organization) -> QuerySet[SalesLine]:
    """The organization's report lines, each with its product (report, ISRC/UPC, match)."""
    return (
        SalesLine.objects.filter(product__organization=organization)
        .select_related("product")
        # `?ordering=line_number`: the property's value, computed by the database.
        .alias(line_number=LINE_NUMBER)  # type: ignore[no-redef]
        .order_by("id")  # a report's lines are one id range, in line order
    )


def report_lines(report: SalesReport) -> QuerySet[SalesLine]:
    """A report's loaded lines, in file order: its block's id range (the BRIN index)."""
    block = SalesLineBlock.objects.filter(report=report).first()
    if block is None:
        return SalesLine.objects.none()
    first, last = block.ids
    return (
        SalesLine.objects.filter(id__gte=first, id__lte=last)
        .select_related("product")
        .order_by("id")
    )


def report_product_list(*, organization: Organization) -> QuerySet[ReportProduct]:
    return ReportProduct.objects.filter(organization=organization).order_by("id")


def report_product_get(*, organization: Organization, product_id: Any) -> ReportProduct:
    return get_or_not_found(
        report_product_list(organization=organization), product_id, "report product"
    )


def sales_line_get(*, organization: Organization, line_id: Any) -> SalesLine:
    return get_or_not_found(sales_line_list(organization=organization), line_id, "sales line")


def exchange_rate_list(*, organization: Organization) -> QuerySet[ExchangeRate]:
    return ExchangeRate.objects.filter(organization=organization)


def payee_list(*, organization: Organization) -> QuerySet[Payee]:
    return Payee.objects.filter(organization=organization)


def payee_get(*, organization: Organization, payee_id: Any) -> Payee:
    return get_or_not_found(payee_list(organization=organization), payee_id, "payee")


def split_list(*, organization: Organization) -> QuerySet[Split]:
    return Split.objects.filter(organization=organization).select_related("payee")


def expense_list(*, organization: Organization) -> QuerySet[RecoupableExpense]:
    return RecoupableExpense.objects.filter(organization=organization)


def payment_list(*, organization: Organization) -> QuerySet[Payment]:
    return Payment.objects.filter(organization=organization).select_related("payee", "period")


def payee_latest_statement(payee: Payee) -> Statement | None:
    """The payee's statement of its latest period: its closing balance is what the payee is
    owed (negative: what it owes back), as of that statement's last generation."""
    return (
        Statement.objects.filter(payee=payee)
        .select_related("period")
        .order_by("-period__month")
        .first()
    )


def statement_payments(statement: Statement) -> QuerySet[Payment]:
    """The payments a statement takes off the balance: its payee's, counted in its period."""
    mine = Payment.objects.filter(period_id=statement.period_id, payee_id=statement.payee_id)
    return mine.order_by("paid_on", "created_at")


def payment_get(*, organization: Organization, payment_id: Any) -> Payment:
    return get_or_not_found(payment_list(organization=organization), payment_id, "payment")


def period_list(*, organization: Organization) -> QuerySet[AccountingPeriod]:
    return AccountingPeriod.objects.filter(organization=organization)


def period_get(*, organization: Organization, period_id: Any) -> AccountingPeriod:
    return get_or_not_found(period_list(organization=organization), period_id, "period")


def period_of_month(*, organization: Organization, month: dt.date) -> AccountingPeriod | None:
    """The organization's accounting period for `month` (its first day), if it has one."""
    return AccountingPeriod.objects.filter(organization=organization, month=month).first()


def period_statements(period: AccountingPeriod) -> QuerySet[Statement]:
    return Statement.objects.filter(period=period).select_related("payee", "period")


def statement_list(*, organization: Organization) -> QuerySet[Statement]:
    return Statement.objects.filter(organization=organization).select_related("payee", "period")


def statement_get(*, organization: Organization, statement_id: Any) -> Statement:
    return get_or_not_found(statement_list(organization=organization), statement_id, "statement")


def statement_line_get(*, statement: Statement, line_id: Any) -> StatementLine:
    return get_or_not_found(statement.lines.all(), line_id, "statement line")


def statement_line_trace(line: StatementLine) -> QuerySet[SalesLine]:
    """The report lines a statement line comes from: the sales of its period with the same
    track (or, for release-level sales, release and no track), store and territory."""
    lines = SalesLine.objects.filter(
        product__organization_id=line.statement.organization_id,  # the index leads with it
        product__period_id=line.statement.period_id,
        product__release_id=line.release_id,
        store=line.store,
        territory=line.territory,
    )
    if line.track_id is None:
        lines = lines.filter(product__track_id__isnull=True)
    else:
        lines = lines.filter(product__track_id=line.track_id)
    return lines.select_related("product").order_by("id")


@dataclass
class EarningsRow:
    key: str
    name: str
    quantity: int
    lines: int
    amount: Decimal  # exact, in the organization's currency
    amount_cents: Decimal


_GROUP_FIELDS = {
    EarningsGroup.TRACK: "product__track_id",
    EarningsGroup.RELEASE: "product__release_id",
    EarningsGroup.STORE: "store",
    EarningsGroup.TERRITORY: "territory",
    EarningsGroup.MONTH: "sale_month",
}


def earnings(
    *,
    organization: Organization,
    group_by: str,
    filters: dict[str, Any],
) -> tuple[list[EarningsRow], list[str]]:
    """Matched sales converted to the organization's currency, grouped; plus the
    (currency, month) pairs that have no rate (their lines are left out)."""
    field = _GROUP_FIELDS[EarningsGroup(group_by)]
    lines = SalesLine.objects.filter(
        product__organization=organization, product__release_id__isnull=False
    )
    for name, lookup in (
        ("store", "store"),
        ("territory", "territory"),
        ("release", "product__release_id"),
        ("track", "product__track_id"),
        ("report", "product__report_id"),
        ("month_from", "sale_month__gte"),
        ("month_to", "sale_month__lte"),
        ("period", "product__period__month"),
    ):
        value = filters.get(name)
        if value not in (None, ""):
            lines = lines.filter(**{lookup: value})
    rows = list(
        lines.values(field, "currency", "sale_month")
        .annotate(net=Sum("net"), quantity=Sum("quantity"), count=Count("id"))
        .order_by()
    )
    rates, missing = rates_for(
        organization=organization, pairs={(r["currency"], r["sale_month"]) for r in rows}
    )
    totals: dict[Any, list[Any]] = defaultdict(lambda: [Decimal(0), 0, 0])
    for row in rows:
        rate = rates.get((row["currency"], row["sale_month"]))
        if rate is None:
            continue
        total = totals[row[field]]
        total[0] += convert(row["net"], rate)
        total[1] += row["quantity"]
        total[2] += row["count"]
    labels = _labels(field, list(totals))
    result = [
        EarningsRow(
            key=_key(key),
            name=labels.get(key, _key(key)),
            quantity=quantity,
            lines=count,
            amount=amount,
            amount_cents=to_cents(amount),
        )
        for key, (amount, quantity, count) in totals.items()
    ]
    result.sort(key=lambda row: (-row.amount, row.key))
    return result, [f"{c} {m:%Y-%m}" for c, m in missing]


def _key(value: Any) -> str:
    if isinstance(value, dt.date):
        return value.strftime("%Y-%m")
    return "" if value is None else str(value)


def _labels(field: str, keys: list[Any]) -> dict[Any, str]:
    ids = [k for k in keys if isinstance(k, uuid.UUID)]
    if field == "product__track_id":
        return {pk: str(t) for pk, t in ((t.pk, t.title) for t in Track.objects.filter(pk__in=ids))}
    if field == "product__release_id":
        return {r.pk: r.title for r in Release.objects.filter(pk__in=ids)}
    return {}
