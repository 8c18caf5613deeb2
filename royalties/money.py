"""Exact money arithmetic: currency conversion and the rounding rule of statements.

Rounding rule (documented in the README):
1. A statement line's group (one track or release, store and territory in a period) has an
   exact total: the sum of its sales lines' net amounts, each converted at its currency's
   rate for its sale month, with no rounding (60 significant digits).
2. That total is rounded once to cents, half to even.
3. The cents are split between the group's payees by largest remainder: each payee gets the
   floor of its percentage share, and the cents left over go one each to the largest
   remainders (ties: the order of the payees' ids). So the payees' amounts always add up to the
   group's rounded total, no cent is made or lost, and each differs from the exact share by
   less than one cent.
4. Recoupment of a release is spread over its groups and then over payees the same way.
A statement's earnings are the sum of its lines; nothing is rounded twice.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import ROUND_HALF_EVEN, Context, Decimal, localcontext

from accounts.models import Organization
from royalties.models import ExchangeRate

CENT = Decimal("0.01")
EXACT = Context(prec=60)
ONE = Decimal(1)


def rates_for(
    *, organization: Organization, pairs: Iterable[tuple[str, dt.date]]
) -> tuple[dict[tuple[str, dt.date], Decimal], list[tuple[str, dt.date]]]:
    """Rates for the (currency, month) pairs, and the pairs that have none."""
    wanted = set(pairs)
    rates: dict[tuple[str, dt.date], Decimal] = {}
    foreign = {(c, m) for c, m in wanted if c != organization.default_currency}
    for c, m in wanted - foreign:
        rates[(c, m)] = ONE
    if foreign:
        currencies = {c for c, _ in foreign}
        months = {m for _, m in foreign}
        for currency, month, rate in ExchangeRate.objects.filter(
            organization=organization, currency__in=currencies, month__in=months
        ).values_list("currency", "month", "rate"):
            if (currency, month) in foreign:
                rates[(currency, month)] = rate
    missing = sorted(wanted - set(rates))
    return rates, missing


def convert(amount: Decimal, rate: Decimal) -> Decimal:
    with localcontext(EXACT):
        return amount * rate


def to_cents(amount: Decimal) -> Decimal:
    with localcontext(EXACT):
        return amount.quantize(CENT, rounding=ROUND_HALF_EVEN)


def allocate(total: Decimal, weights: list[Decimal]) -> list[Decimal]:
    """Split `total` (in cents) by `weights` by largest remainder; the parts sum to `total`."""
    if not weights:
        return []
    cents = int((total / CENT).to_integral_value())
    sign = -1 if cents < 0 else 1
    cents = abs(cents)
    weight_sum = sum(weights, Decimal(0))
    if weight_sum <= 0 or cents == 0:
        return [Decimal(0).quantize(CENT) for _ in weights]
    with localcontext(EXACT):
        exact = [Decimal(cents) * w / weight_sum for w in weights]
    floors = [int(x) for x in exact]  # exact >= 0, so int() is the floor
    left = cents - sum(floors)
    order = sorted(range(len(weights)), key=lambda i: (-(exact[i] - floors[i]), i))
    for i in order[:left]:
        floors[i] += 1
    return [(Decimal(sign * f) * CENT).quantize(CENT) for f in floors]
