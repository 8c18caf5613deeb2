"""Payments to payees: off the balance of the statement of the period they count in, carried
to the next period's opening balance; refused when bad; deleted only while their period is
open; by service, API and admin."""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.choices import Role
from accounts.tests.factories import OrganizationFactory
from enterprise_suite.errors import InvalidTransition, ValidationFailed
from realtime.models import Event
from royalties.models import AccountingPeriod, Payment, Statement
from royalties.services import money, payments, statements
from royalties.tests import files
from royalties.tests.files import Sale
from royalties.tests.test_admin_roles import _staff

MARCH, APRIL = dt.date(2026, 3, 1), dt.date(2026, 4, 1)


@pytest.fixture
def alice(catalog: Any, import_file: Any) -> Any:
    """Alice has all of track A, which earned 10.00 EUR in March."""
    payee = money.payee_create(organization=catalog.organization, name="Alice")
    money.splits_set(
        organization=catalog.organization,
        track=catalog.track_a,
        valid_from=dt.date(2026, 1, 1),
        shares=[(payee, Decimal(100))],
    )
    import_file(
        catalog.organization,
        files.canonical([Sale(catalog.track_a.isrc, "", "DE", "stream", 900, "12", "10.00")]),
    )
    return payee


def _figures(period: AccountingPeriod, payee: Any) -> tuple[Decimal, ...]:
    s = Statement.objects.get(period=period, payee=payee)
    return (s.opening_balance, s.earnings, s.recoupment, s.payments, s.closing_balance)


def _pay(catalog: Any, payee: Any, amount: str, paid_on: dt.date, **kwargs: Any) -> Payment:
    return payments.payment_record(
        organization=catalog.organization,
        payee=payee,
        amount=Decimal(amount),
        paid_on=paid_on,
        **kwargs,
    )


def test_payments_come_off_the_balance_and_carry_to_the_next_period(
    catalog: Any, alice: Any
) -> None:
    march = AccountingPeriod.objects.get(organization=catalog.organization, month=MARCH)
    paid = _pay(catalog, alice, "6.00", dt.date(2026, 3, 20), reference=" TR-1 ")
    assert (paid.period, paid.currency, paid.reference) == (march, "EUR", "TR-1")
    event = Event.objects.get(type="payment.recorded")
    assert event.data["amount"] == "6.00" and event.data["period"] == "2026-03"

    statements.statements_generate(period=march)
    assert _figures(march, alice) == (0, Decimal("10.00"), 0, Decimal("6.00"), Decimal("4.00"))
    statements.period_close(period=march)

    # April: no sales. Alice is paid the rest; Bob gets an advance before earning anything.
    bob = money.payee_create(organization=catalog.organization, name="Bob")
    _pay(catalog, alice, "4.00", dt.date(2026, 4, 3))
    _pay(catalog, bob, "50.00", dt.date(2026, 4, 9))
    _pay(catalog, bob, "-5.00", dt.date(2026, 4, 30), reference="returned")  # came back
    april = AccountingPeriod.objects.get(organization=catalog.organization, month=APRIL)

    statements.statements_generate(period=april)

    assert _figures(april, alice) == (Decimal("4.00"), 0, 0, Decimal("4.00"), 0)
    assert _figures(april, bob) == (0, 0, 0, Decimal("45.00"), Decimal("-45.00"))


def test_a_payment_dated_in_a_closed_month_counts_in_the_next_open_period(
    catalog: Any, alice: Any
) -> None:
    march = AccountingPeriod.objects.get(organization=catalog.organization, month=MARCH)
    statements.period_close(period=march)

    late = _pay(catalog, alice, "10.00", dt.date(2026, 3, 31))

    assert late.paid_on == dt.date(2026, 3, 31)
    assert late.period.month == APRIL
    statements.statements_generate(period=late.period)
    assert _figures(late.period, alice) == (Decimal("10.00"), 0, 0, Decimal("10.00"), 0)


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        ("0", "A payment cannot be zero."),
        ("0.00", "A payment cannot be zero."),
        ("1.005", "at most 2 decimal places"),
    ],
)
def test_bad_payments_are_refused_and_nothing_is_recorded(
    catalog: Any, alice: Any, amount: str, message: str
) -> None:
    with pytest.raises(ValidationFailed, match=message):
        _pay(catalog, alice, amount, dt.date(2026, 3, 5))

    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    with pytest.raises(ValidationFailed, match="cannot be in the future"):
        _pay(catalog, alice, "1.00", tomorrow)
    stranger = money.payee_create(organization=OrganizationFactory(), name="Stranger")
    with pytest.raises(ValidationFailed, match="No such payee"):
        _pay(catalog, stranger, "1.00", dt.date(2026, 3, 5))
    assert not Payment.objects.exists()
    assert not Event.objects.filter(type__startswith="payment.").exists()


def test_a_payment_is_deleted_only_while_its_period_is_open(catalog: Any, alice: Any) -> None:
    mistake = _pay(catalog, alice, "9.99", dt.date(2026, 3, 2))
    kept = _pay(catalog, alice, "1.00", dt.date(2026, 3, 3))

    payments.payment_delete(payment=mistake)

    assert list(Payment.objects.all()) == [kept]
    assert Event.objects.get(type="payment.deleted").data["amount"] == "9.99"
    statements.period_close(period=kept.period)
    with pytest.raises(InvalidTransition, match="which is closed; record a negative payment"):
        payments.payment_delete(payment=kept)
    assert list(Payment.objects.all()) == [kept]
    assert _figures(kept.period, alice)[3:] == (Decimal("1.00"), Decimal("9.00"))


def test_payments_by_api(catalog: Any, alice: Any, make_caller: Any) -> None:
    caller = make_caller(organization=catalog.organization)
    body = {"payee": str(alice.pk), "amount": "7.50", "paid_on": "2026-03-28", "reference": "X"}

    created = caller.client.post("/api/v1/payments/", body, format="json",
                                 HTTP_IDEMPOTENCY_KEY="pay-1")  # fmt: skip
    retried = caller.client.post("/api/v1/payments/", body, format="json",
                                 HTTP_IDEMPOTENCY_KEY="pay-1")  # fmt: skip

    assert created.status_code == 201, created.json()
    assert retried.json() == created.json()
    assert Payment.objects.count() == 1
    payment = created.json()
    assert (payment["amount"], payment["currency"], payment["period"]) == ("7.50", "EUR", "2026-03")
    listed = caller.client.get(f"/api/v1/payments/?payee={alice.pk}&period=2026-03").json()
    assert [row["id"] for row in listed["results"]] == [payment["id"]]
    assert caller.client.get("/api/v1/payments/?period=2026-04").json()["results"] == []

    for bad, field in (({"amount": "1.001"}, "amount"), ({"amount": "0"}, "amount"),
                       ({"paid_on": "March"}, "paid_on")):  # fmt: skip
        answer = caller.client.post("/api/v1/payments/", body | bad, format="json")
        assert answer.status_code == 400, answer.json()
        assert field in answer.json()["error"]["details"]
    stranger = money.payee_create(organization=OrganizationFactory(), name="Stranger")
    other = caller.client.post("/api/v1/payments/", body | {"payee": str(stranger.pk)},
                               format="json")  # fmt: skip
    assert other.status_code == 404
    assert Payment.objects.count() == 1

    march = AccountingPeriod.objects.get(organization=catalog.organization, month=MARCH)
    generated = caller.client.post(f"/api/v1/accounting-periods/{march.pk}/statements/")
    (statement,) = generated.json()
    for month, expected in (("2026-03", [statement["id"]]), ("2026-04", [])):
        found = caller.client.get(f"/api/v1/statements/?period={month}&payee={alice.pk}")
        assert [row["id"] for row in found.json()["results"]] == expected
    assert caller.client.get("/api/v1/statements/?period=March").status_code == 400
    assert (statement["payments"], statement["closing_balance"]) == ("7.50", "2.50")
    exported = caller.client.get(f"/api/v1/statements/{statement['id']}/csv/")
    rows = list(csv.reader(io.StringIO(b"".join(exported.streaming_content).decode())))
    assert rows[-2:] == [["payments", "7.50"], ["closing_balance", "2.50"]]
    assert ["payment", "2026-03-28", "X", "7.50"] in rows
    detail = caller.client.get(f"/api/v1/statements/{statement['id']}/").json()
    assert detail["payment_entries"] == [
        {"id": payment["id"], "paid_on": "2026-03-28", "amount": "7.50", "reference": "X"}
    ]

    viewer = make_caller(organization=catalog.organization, role=Role.VIEWER)
    assert viewer.client.get("/api/v1/payments/").status_code == 200
    assert viewer.client.post("/api/v1/payments/", body, format="json").status_code == 403
    assert viewer.client.delete(f"/api/v1/payments/{payment['id']}/").status_code == 403
    outsider = make_caller(organization=OrganizationFactory())
    assert outsider.client.get(f"/api/v1/payments/{payment['id']}/").status_code == 404

    caller.client.post(f"/api/v1/accounting-periods/{march.pk}/close/")
    refused = caller.client.delete(f"/api/v1/payments/{payment['id']}/")
    assert refused.status_code == 409
    assert Payment.objects.count() == 1


def test_staff_record_and_delete_payments_in_the_admin(catalog: Any, alice: Any) -> None:
    manager = _staff(catalog.organization, "manager")
    add = reverse("admin:royalties_payment_add")

    refused = manager.post(add, {"payee": alice.pk, "amount": "0", "paid_on": "2026-03-05"})
    assert "A payment cannot be zero." in refused.content.decode()
    saved = manager.post(
        add, {"payee": alice.pk, "amount": "3.25", "paid_on": "2026-03-05", "reference": "B-7"}
    )
    assert saved.status_code == 302
    payment = Payment.objects.get()
    assert (payment.amount, payment.period.month, payment.currency) == (
        Decimal("3.25"), MARCH, "EUR",
    )  # fmt: skip
    assert payment.recorded_by is not None and payment.recorded_by.email.startswith("manager@")

    delete = reverse("admin:royalties_payment_delete", args=[payment.pk])
    statements.period_close(period=payment.period)
    assert manager.get(delete).status_code == 403  # its period is closed
    assert Payment.objects.count() == 1

    april = manager.post(add, {"payee": alice.pk, "amount": "1.00", "paid_on": "2026-04-01"})
    assert april.status_code == 302
    second = Payment.objects.get(period__month=APRIL)
    manager.post(reverse("admin:royalties_payment_delete", args=[second.pk]), {"post": "yes"})
    assert list(Payment.objects.all()) == [payment]

    statement = Statement.objects.get(payee=alice, period=payment.period)
    shown = manager.get(reverse("admin:royalties_statement_change", args=[statement.pk]))
    assert "<td>B-7</td><td>3.25</td>" in shown.content.decode()  # its payment, listed

    viewer = _staff(catalog.organization, "viewer")
    assert viewer.get(add).status_code == 403
    assert "B-7" in viewer.get(reverse("admin:royalties_payment_changelist")).content.decode()


def test_a_payees_admin_page_shows_its_balance_and_links(catalog: Any, alice: Any) -> None:
    manager = _staff(catalog.organization, "manager")
    page = reverse("admin:royalties_payee_change", args=[alice.pk])
    assert "No statement yet." in manager.get(page).content.decode()

    _pay(catalog, alice, "6.00", dt.date(2026, 3, 20), reference="TR-1")
    march = AccountingPeriod.objects.get(organization=catalog.organization, month=MARCH)
    statements.statements_generate(period=march)
    shown = manager.get(page).content.decode()

    assert "4.00 EUR at the close of 2026-03 (draft)." in shown
    payments_url = reverse("admin:royalties_payment_changelist") + f"?payee__id__exact={alice.pk}"
    assert payments_url in shown
    listed = manager.get(payments_url)
    assert listed.status_code == 200 and "TR-1" in listed.content.decode()
    mine = manager.get(
        reverse("admin:royalties_statement_changelist") + f"?payee__id__exact={alice.pk}"
    )
    assert mine.status_code == 200 and "Alice" in mine.content.decode()
