"""Payments to payees: recorded in the accounting period of the month they were paid (or the
next open one), taken off the payee's balance by that period's statement."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from accounts.models import Organization, User
from enterprise_suite.errors import InvalidTransition, ValidationFailed
from realtime.events import publish
from royalties.models import Payee, Payment
from royalties.money import CENT
from royalties.services.periods import accounting_period_for, period_share_locked


def _event(payment: Payment, type: str, actor: User | None) -> None:
    publish(
        organization_id=payment.organization_id,
        type=type,
        subject_type="payee",
        subject_id=payment.payee_id,
        actor_id=actor.pk if actor else None,
        data={
            "payment_id": str(payment.pk),
            "amount": str(payment.amount),
            "currency": payment.currency,
            "paid_on": payment.paid_on.isoformat(),
            "period": str(payment.period),
            "reference": payment.reference,
        },
    )


def payment_record(
    *,
    organization: Organization,
    payee: Payee,
    amount: Decimal,
    paid_on: dt.date,
    reference: str = "",
    actor: User | None = None,
) -> Payment:
    """Record a payment (negative: money returned) in the organization's currency. It
    counts in the period of `paid_on`'s month, or the next open one if that has closed."""
    if payee.organization_id != organization.pk:
        raise ValidationFailed("No such payee.", details={"payee": ["Not found."]})
    if amount == 0:
        raise ValidationFailed("A payment cannot be zero.", details={"amount": ["Not 0."]})
    if paid_on > timezone.localdate():
        raise ValidationFailed(
            "A payment is recorded once it is made: its date cannot be in the future.",
            details={"paid_on": [f"On or before {timezone.localdate().isoformat()}."]},
        )
    if amount != amount.quantize(CENT):
        raise ValidationFailed(
            "Payments are in cents: at most 2 decimal places.",
            details={"amount": ["At most 2 decimal places."]},
        )
    with transaction.atomic():
        # Locked until the payment commits: its period cannot close without it.
        period = accounting_period_for(organization=organization, month=paid_on, lock=True)
        payment = Payment.objects.create(
            organization=organization,
            payee=payee,
            period=period,
            amount=amount,
            currency=organization.default_currency,
            paid_on=paid_on,
            reference=reference.strip(),
            recorded_by=actor,
        )
        _event(payment, "payment.recorded", actor)
    return payment


def payment_delete(*, payment: Payment, actor: User | None = None) -> None:
    """Delete a payment recorded by mistake; refused (409) once its period has closed (record
    a negative payment instead)."""
    with transaction.atomic():
        period = period_share_locked(payment.period_id)
        if period.is_closed:
            raise InvalidTransition(
                f"The payment counts in {period}, which is closed; record a negative payment "
                "in an open period instead.",
                details={"period": str(period)},
            )
        deleted, _ = Payment.objects.filter(pk=payment.pk).delete()
        if deleted:
            _event(payment, "payment.deleted", actor)
