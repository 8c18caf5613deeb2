"""Exchange rates, payees, splits and recoupable expenses."""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Iterable
from decimal import Decimal
from typing import TextIO

from django.db import transaction

from accounts.models import Organization
from distribution.models import Artist, Release, Track
from enterprise_suite.errors import ValidationFailed
from royalties.currencies import is_currency
from royalties.models import ExchangeRate, Payee, RecoupableExpense, Split
from royalties.parsers.base import LineError, amount
from royalties.services.periods import first_of_month

HUNDRED = Decimal(100)


def exchange_rates_set(
    *, organization: Organization, rates: Iterable[tuple[str, dt.date, Decimal]]
) -> list[ExchangeRate]:
    """Create or replace rates (currency, month, units of the organization's currency per
    unit). All or nothing: one invalid rate refuses the whole set."""
    cleaned: dict[tuple[str, dt.date], Decimal] = {}
    problems: dict[str, list[str]] = {}
    for index, (currency, month, rate) in enumerate(rates):
        code = currency.strip().upper()
        if not is_currency(code):
            problems[f"{index}"] = [f"Unknown currency '{currency}'."]
        elif rate <= 0:
            problems[f"{index}"] = ["The rate must be positive."]
        else:
            cleaned[(code, first_of_month(month))] = rate
    if problems:
        raise ValidationFailed("Some exchange rates are invalid.", details=problems)
    saved = []
    with transaction.atomic():
        for (code, month), rate in cleaned.items():
            row, _ = ExchangeRate.objects.update_or_create(
                organization=organization, currency=code, month=month, defaults={"rate": rate}
            )
            saved.append(row)
    return saved


def exchange_rates_load_csv(*, organization: Organization, stream: TextIO) -> list[ExchangeRate]:
    """Rates from CSV with the header currency,month,rate (month YYYY-MM)."""
    reader = csv.DictReader(stream)
    if reader.fieldnames is None or {"currency", "month", "rate"} - set(reader.fieldnames):
        raise ValidationFailed("The header must be currency,month,rate.")
    rates = []
    for row in reader:
        try:
            month = dt.datetime.strptime(row["month"].strip(), "%Y-%m").date()
            rate = amount(row["rate"], field="rate")
        except (ValueError, LineError) as exc:
            raise ValidationFailed(f"Line {reader.line_num}: {exc}") from None
        rates.append((row["currency"], month, rate))
    return exchange_rates_set(organization=organization, rates=rates)


def payee_create(
    *, organization: Organization, name: str, email: str = "", artist: Artist | None = None
) -> Payee:
    if artist is not None and artist.organization_id != organization.pk:
        raise ValidationFailed("No such artist.", details={"artist": ["Not found."]})
    return Payee.objects.create(organization=organization, name=name, email=email, artist=artist)


def splits_set(
    *,
    organization: Organization,
    valid_from: dt.date,
    shares: list[tuple[Payee, Decimal]],
    track: Track | None = None,
    release: Release | None = None,
) -> list[Split]:
    """Set the payees of a track (or of a release's release-level sales) from a date: the
    percentages must sum to exactly 100. Replaces a set with the same date."""
    if (track is None) == (release is None):
        raise ValidationFailed("Give a track or a release.", details={"track": ["Required."]})
    target = track or release
    assert target is not None
    if target.organization_id != organization.pk:
        raise ValidationFailed("No such track or release.", details={"track": ["Not found."]})
    if not shares:
        raise ValidationFailed("Give at least one share.", details={"shares": ["Required."]})
    payees = [payee for payee, _ in shares]
    if any(payee.organization_id != organization.pk for payee in payees):
        raise ValidationFailed("No such payee.", details={"shares": ["Unknown payee."]})
    if len({payee.pk for payee in payees}) != len(payees):
        raise ValidationFailed("A payee appears twice.", details={"shares": ["Duplicate."]})
    if any(percent <= 0 or percent > HUNDRED for _, percent in shares):
        raise ValidationFailed(
            "Each share must be above 0 and at most 100.", details={"shares": ["Out of range."]}
        )
    total = sum((percent for _, percent in shares), Decimal(0))
    if total != HUNDRED:
        raise ValidationFailed(
            f"The shares sum to {total}, not 100.", details={"shares": [f"Sum is {total}."]}
        )
    with transaction.atomic():
        # The target's row serializes two sets of the same target: each replaces, neither adds.
        list(type(target).objects.select_for_update().filter(pk=target.pk).values_list("pk"))
        Split.objects.filter(track=track, release=release, valid_from=valid_from).delete()
        return Split.objects.bulk_create(
            Split(
                organization=organization,
                track=track,
                release=release,
                payee=payee,
                percent=percent,
                valid_from=valid_from,
            )
            for payee, percent in shares
        )


def expense_create(
    *,
    organization: Organization,
    release: Release,
    description: str,
    amount: Decimal,
    incurred_on: dt.date,
) -> RecoupableExpense:
    if release.organization_id != organization.pk:
        raise ValidationFailed("No such release.", details={"release": ["Not found."]})
    if amount <= 0:
        raise ValidationFailed("The amount must be positive.", details={"amount": ["> 0."]})
    return RecoupableExpense.objects.create(
        organization=organization,
        release=release,
        description=description,
        amount=amount.quantize(Decimal("0.01")),
        incurred_on=incurred_on,
    )
