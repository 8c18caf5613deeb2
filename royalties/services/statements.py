"""Statements: each payee's earnings of an accounting period, and closing the period.

See `royalties.money` for the rounding rule. Statements of an open period are drafts,
regenerated from scratch on demand; closing the period makes them final and immutable.
"""

from __future__ import annotations

import calendar
import datetime as dt
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import connection, transaction
from django.db.models import Count, Sum
from django.utils import timezone

from accounts.models import User
from enterprise_suite.errors import InvalidTransition, ValidationFailed
from realtime.events import publish
from royalties.choices import StatementStatus
from royalties.models import (
    AccountingPeriod,
    Payment,
    RecoupableExpense,
    SalesLine,
    Split,
    Statement,
    StatementLine,
)
from royalties.money import CENT, allocate, convert, rates_for, to_cents

ZERO = Decimal(0)
STATEMENT_FIGURES = ["currency", "opening_balance", "earnings", "recoupment", "payments",
                     "closing_balance"]  # fmt: skip
GroupKey = tuple[uuid.UUID | None, uuid.UUID, str, str]  # track, release, store, territory


@dataclass
class Group:
    total: Decimal = ZERO
    quantity: int = 0
    lines: int = 0
    cents: Decimal = ZERO
    recouped: Decimal = ZERO


# A statement line's values, in LINE_COLUMNS order after its statement: tens of thousands
# per period for a label with thousands of payees, so tuples, not model instances.
LINE_COLUMNS = ("track_id", "release_id", "store", "territory", "quantity", "sales_lines",
                "group_total", "percent", "amount", "recouped")  # fmt: skip
LineValues = tuple[
    uuid.UUID | None, uuid.UUID, str, str, int, int, Decimal, Decimal, Decimal, Decimal
]


@dataclass
class PayeeTotals:
    lines: list[LineValues] = field(default_factory=list)
    earnings: Decimal = ZERO
    recoupment: Decimal = ZERO


@dataclass
class Unallocated:
    """A period's matched earnings that no split set covers, so on no statement: the
    organization's to pay out itself, or to give splits before the period closes."""

    currency: str
    groups: dict[GroupKey, Group]

    @property
    def total(self) -> Decimal:
        return sum((group.cents for group in self.groups.values()), ZERO)

    def largest_first(self) -> list[tuple[GroupKey, Group]]:
        return sorted(self.groups.items(), key=lambda item: (-item[1].cents, str(item[0])))


def period_end(period: AccountingPeriod) -> dt.date:
    last = calendar.monthrange(period.month.year, period.month.month)[1]
    return period.month.replace(day=last)


def period_groups(period: AccountingPeriod) -> dict[GroupKey, Group]:
    """The period's matched sales, converted exactly and grouped by statement line."""
    rows = list(
        SalesLine.objects.filter(
            product__organization_id=period.organization_id,
            product__period=period,
            product__release_id__isnull=False,
        )
        .values(
            "product__track_id", "product__release_id", "store", "territory", "currency",
            "sale_month",
        )
        .annotate(net=Sum("net"), quantity=Sum("quantity"), lines=Count("id"))
        .order_by()
    )  # fmt: skip
    rates, missing = rates_for(
        organization=period.organization, pairs={(r["currency"], r["sale_month"]) for r in rows}
    )
    if missing:
        names = [f"{c} {m:%Y-%m}" for c, m in missing]
        raise ValidationFailed(
            "Exchange rates are missing for some sales; load them first. "
            f"Missing: {', '.join(names)}.",
            code="missing_exchange_rates",
            details={"missing": names},
        )
    groups: dict[GroupKey, Group] = defaultdict(Group)
    for row in rows:
        key = (row["product__track_id"], row["product__release_id"], row["store"], row["territory"])
        group = groups[key]
        group.total += convert(row["net"], rates[(row["currency"], row["sale_month"])])
        group.quantity += row["quantity"]
        group.lines += row["lines"]
    for group in groups.values():
        group.cents = to_cents(group.total)
    return groups


def _splits_at(period: AccountingPeriod) -> dict[tuple[str, uuid.UUID], list[Split]]:
    """The split set in force at the period's end for every track and release."""
    latest: dict[tuple[str, uuid.UUID], dt.date] = {}
    sets: dict[tuple[str, uuid.UUID, dt.date], list[Split]] = defaultdict(list)
    for split in Split.objects.filter(
        organization_id=period.organization_id, valid_from__lte=period_end(period)
    ).order_by("payee_id"):
        target_id = split.track_id or split.release_id
        assert target_id is not None
        target = ("track" if split.track_id else "release", target_id)
        sets[(*target, split.valid_from)].append(split)
        if latest.get(target, dt.date.min) < split.valid_from:
            latest[target] = split.valid_from
    return {target: sets[(*target, day)] for target, day in latest.items()}


def _target(key: GroupKey) -> tuple[str, uuid.UUID]:
    """The split set that pays a group: its track's, or its release's for release-level
    sales."""
    track_id, release_id = key[0], key[1]
    return ("track", track_id) if track_id else ("release", release_id)


def _allocate_groups(
    period: AccountingPeriod,
) -> tuple[dict[GroupKey, Group], dict[GroupKey, list[Split]], Unallocated]:
    """The period's groups, the split set paying each group that has one, and the groups
    no split set covers."""
    groups = period_groups(period)
    splits = _splits_at(period)
    allocated: dict[GroupKey, list[Split]] = {}
    unallocated = Unallocated(currency=period.organization.default_currency, groups={})
    for key, group in groups.items():
        shares = splits.get(_target(key))
        if shares:
            allocated[key] = shares
        else:
            unallocated.groups[key] = group
    return groups, allocated, unallocated


def period_unallocated(*, period: AccountingPeriod) -> Unallocated:
    """The period's earnings on no statement, grouped as statement lines are. Raises
    `ValidationFailed` if exchange rates are missing, as statements do."""
    return _allocate_groups(period)[2]


def _unrecouped(period: AccountingPeriod, release_ids: set[uuid.UUID]) -> dict[uuid.UUID, Decimal]:
    expenses = dict(
        RecoupableExpense.objects.filter(
            release_id__in=release_ids, incurred_on__lte=period_end(period)
        )
        .values("release_id")
        .annotate(total=Sum("amount"))
        .values_list("release_id", "total")
    )
    recovered = dict(
        StatementLine.objects.filter(release_id__in=release_ids)
        .exclude(statement__period=period)
        .filter(statement__period__month__lt=period.month)
        .values("release_id")
        .annotate(total=Sum("recouped"))
        .values_list("release_id", "total")
    )
    return {
        release: max(ZERO, total - (recovered.get(release) or ZERO))
        for release, total in expenses.items()
    }


def _opening_balances(period: AccountingPeriod) -> dict[uuid.UUID, Decimal]:
    """Each payee's closing balance on its latest statement before this period."""
    balances: dict[uuid.UUID, Decimal] = {}
    for payee_id, closing in (
        Statement.objects.filter(
            organization_id=period.organization_id, period__month__lt=period.month
        )
        .order_by("payee_id", "-period__month")
        .values_list("payee_id", "closing_balance")
    ):
        balances.setdefault(payee_id, closing)
    return balances


def _payments(period: AccountingPeriod) -> dict[uuid.UUID, Decimal]:
    """What each payee was paid in the period (in the organization's currency)."""
    return dict(
        Payment.objects.filter(period=period)
        .values("payee_id")
        .annotate(total=Sum("amount"))
        .values_list("payee_id", "total")
    )


def statements_generate(*, period: AccountingPeriod, actor: User | None = None) -> list[Statement]:
    """(Re)build the draft statements of an open period for every payee with earnings or a
    balance. Refused (409) once the period is closed."""
    with transaction.atomic():
        period = AccountingPeriod.objects.select_for_update().get(pk=period.pk)
        if period.is_closed:
            raise InvalidTransition(
                "The period is closed; its statements are final.",
                details={"period": str(period)},
            )
        statements, unallocated = _build(period)
        publish(
            organization_id=period.organization_id,
            type="statements.generated",
            subject_type="accounting_period",
            subject_id=period.pk,
            actor_id=actor.pk if actor else None,
            data={
                "period": str(period),
                "statements": len(statements),
                "unallocated": str(unallocated.total.quantize(CENT)),
            },
        )
    return statements


def _build(period: AccountingPeriod) -> tuple[list[Statement], Unallocated]:
    """The period's draft statements, rebuilt; and its earnings on none of them."""
    groups, allocated, unallocated = _allocate_groups(period)

    # Recoupment: each release's unrecouped expenses come out of its earnings first.
    by_release: dict[uuid.UUID, list[GroupKey]] = defaultdict(list)
    for key in allocated:
        by_release[key[1]].append(key)
    unrecouped = _unrecouped(period, set(by_release))
    for release_id, keys in by_release.items():
        earned = sum((max(ZERO, groups[k].cents) for k in keys), ZERO)
        recoup = min(unrecouped.get(release_id, ZERO), earned)
        parts = allocate(recoup, [max(ZERO, groups[k].cents) for k in keys])
        for key, part in zip(keys, parts, strict=True):
            groups[key].recouped = part

    per_payee: dict[uuid.UUID, PayeeTotals] = defaultdict(PayeeTotals)
    for key, shares in allocated.items():
        group = groups[key]
        weights = [split.percent for split in shares]
        amounts = allocate(group.cents, weights)
        recouped = allocate(group.recouped, weights)
        for split, share, recoup in zip(shares, amounts, recouped, strict=True):
            totals = per_payee[split.payee_id]
            totals.earnings += share
            totals.recoupment += recoup
            totals.lines.append(
                (key[0], key[1], key[2], key[3], group.quantity, group.lines, group.total,
                 split.percent, share, recoup)
            )  # fmt: skip

    # Statements keep their ids across regenerations (clients may hold them); lines are
    # rebuilt.
    existing = {st.payee_id: st for st in Statement.objects.filter(period=period)}
    openings = _opening_balances(period)
    paid = _payments(period)
    payee_ids = (
        set(per_payee) | {p for p, balance in openings.items() if balance != ZERO} | set(paid)
    )
    Statement.objects.filter(period=period).exclude(payee_id__in=payee_ids).delete()
    StatementLine.objects.filter(statement__period=period).delete()
    currency = period.organization.default_currency
    now = timezone.now()
    statements: list[Statement] = []
    created: list[Statement] = []
    changed: list[Statement] = []
    lines: list[tuple[uuid.UUID, *LineValues]] = []
    for payee_id in sorted(payee_ids):
        totals = per_payee.get(payee_id, PayeeTotals())
        opening = openings.get(payee_id, ZERO)
        statement = existing.get(payee_id)
        if statement is None:
            statement = Statement(
                organization_id=period.organization_id, payee_id=payee_id, period=period
            )
            created.append(statement)
        before = [getattr(statement, name) for name in STATEMENT_FIGURES]
        statement.currency = currency
        statement.opening_balance = opening.quantize(CENT)
        statement.earnings = totals.earnings.quantize(CENT)
        statement.recoupment = totals.recoupment.quantize(CENT)
        statement.payments = paid.get(payee_id, ZERO).quantize(CENT)
        statement.closing_balance = (
            opening + totals.earnings - totals.recoupment - statement.payments
        ).quantize(CENT)
        if payee_id in existing and before != [
            getattr(statement, name) for name in STATEMENT_FIGURES
        ]:
            statement.updated_at = now
            changed.append(statement)
        statements.append(statement)
        lines.extend((statement.pk, *values) for values in totals.lines)
    # In bulk, and only the statements whose figures changed: a label with thousands of
    # payees has as many statements, and one query each (or bulk_update's CASE over all of
    # them) took seconds. bulk_update's CASE grows with its batch: small batches.
    Statement.objects.bulk_create(created, batch_size=2000)
    Statement.objects.bulk_update(changed, [*STATEMENT_FIGURES, "updated_at"], batch_size=100)
    statement_lines_write(lines)
    return statements, unallocated


def statement_lines_write(lines: list[tuple[uuid.UUID, *LineValues]]) -> None:
    """Write new statement lines, each its statement's id and then its `LINE_COLUMNS`: one
    COPY on PostgreSQL, bulk_create elsewhere."""
    columns = ("statement_id", *LINE_COLUMNS)
    if connection.vendor != "postgresql":
        StatementLine.objects.bulk_create(
            (StatementLine(**dict(zip(columns, line, strict=True))) for line in lines),
            batch_size=2000,
        )
        return
    sql = f"COPY {StatementLine._meta.db_table} ({', '.join(columns)}) FROM STDIN"
    with connection.cursor() as cursor, cursor.cursor.copy(sql) as copy:
        for line in lines:
            copy.write_row(line)


def period_close(*, period: AccountingPeriod, actor: User | None = None) -> AccountingPeriod:
    """Generate the period's statements a last time and make them final. Sales arriving
    later count in the next open period. Periods close in order (409 while an earlier one
    is open): a statement's opening balance is the previous period's closing balance, which
    must not change under a final statement."""
    with transaction.atomic():
        locked = AccountingPeriod.objects.select_for_update().get(pk=period.pk)
        if locked.is_closed:
            raise InvalidTransition(
                "The period is already closed.", details={"period": str(locked)}
            )
        earlier_open = [
            str(earlier)
            for earlier in AccountingPeriod.objects.filter(
                organization_id=locked.organization_id,
                month__lt=locked.month,
                closed_at__isnull=True,
            ).order_by("month")
        ]
        if earlier_open:
            raise InvalidTransition(
                f"Close {', '.join(earlier_open)} first: this period's opening balances are "
                "the closing balances there.",
                details={"open_periods": earlier_open},
            )
        statements, unallocated = _build(locked)
        Statement.objects.filter(period=locked).update(
            status=StatementStatus.FINAL, updated_at=timezone.now()
        )
        locked.closed_at = timezone.now()
        locked.save(update_fields=["closed_at", "updated_at"])
        publish(
            organization_id=locked.organization_id,
            type="accounting_period.closed",
            subject_type="accounting_period",
            subject_id=locked.pk,
            actor_id=actor.pk if actor else None,
            data={
                "period": str(locked),
                "statements": len(statements),
                "unallocated": str(unallocated.total.quantize(CENT)),
            },
        )
    return locked
