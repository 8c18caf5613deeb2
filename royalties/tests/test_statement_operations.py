"""Statements for operators and staff: `manage.py generate_statements` (drafts, closing, CSV
export) and the admin's period actions and statement download, with their refusals."""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from accounts.models import User
from accounts.tests.factories import MembershipFactory, OrganizationFactory
from royalties.choices import StatementStatus
from royalties.models import AccountingPeriod, Statement, UnmatchedProduct
from royalties.services import money
from royalties.tests import files
from royalties.tests.files import Sale
from royalties.tests.test_admin_roles import _staff

MARCH, APRIL = dt.date(2026, 3, 1), dt.date(2026, 4, 1)


@pytest.fixture
def march(catalog: Any, import_file: Any) -> AccountingPeriod:
    """March sales of track A (split 60/40 between Alice and Bob): 10.00 EUR net."""
    org = catalog.organization
    alice = money.payee_create(organization=org, name="Alice")
    bob = money.payee_create(organization=org, name="Bob")
    money.splits_set(
        organization=org,
        track=catalog.track_a,
        valid_from=dt.date(2026, 1, 1),
        shares=[(alice, Decimal(60)), (bob, Decimal(40))],
    )
    import_file(
        org,
        files.canonical(
            [
                Sale(catalog.track_a.isrc, "", "DE", "stream", 1000, "9", "7.5"),
                Sale(catalog.track_a.isrc, "", "FR", "stream", 300, "3", "2.5"),
            ]
        ),
    )
    return AccountingPeriod.objects.get(organization=org, month=MARCH)


def _earnings(period: AccountingPeriod) -> dict[str, tuple[Decimal, str]]:
    return {
        s.payee.name: (s.earnings, s.status)
        for s in Statement.objects.filter(period=period).select_related("payee")
    }


def _command(*args: str) -> str:
    out = io.StringIO()
    call_command("generate_statements", *args, stdout=out)
    return out.getvalue()


def test_the_command_generates_drafts_closes_and_exports(
    catalog: Any, march: AccountingPeriod, tmp_path: Path
) -> None:
    slug = catalog.organization.slug

    said = _command("--organization", slug, "--month", "2026-03")

    assert f"{slug} 2026-03: 2 draft statement(s)." in said
    assert _earnings(march) == {
        "Alice": (Decimal("6.00"), StatementStatus.DRAFT),
        "Bob": (Decimal("4.00"), StatementStatus.DRAFT),
    }

    exported = tmp_path / "out"
    said = _command(
        "--organization", slug, "--month", "2026-03", "--close", "--export", str(exported)
    )

    assert "2 final statement(s), period closed." in said
    march.refresh_from_db()
    assert march.is_closed
    assert {status for _, status in _earnings(march).values()} == {StatementStatus.FINAL}
    written = sorted(exported.iterdir())
    assert len(written) == 2
    by_payee = {}
    for path in written:
        rows = list(csv.reader(path.open(newline="")))
        by_payee[rows[0][1]] = rows
    alice = by_payee["Alice"]
    assert alice[0] == ["payee", "Alice", "period", "2026-03", "currency", "EUR", "status", "final"]
    assert sorted(row[4] for row in alice[2:4]) == ["DE", "FR"]  # a line per territory
    assert sum(Decimal(row[9]) for row in alice[2:4]) == Decimal("6.00")
    assert alice[-1] == ["closing_balance", "6.00"]

    # Closed: neither regenerated nor closed again, and the final statements stay as they are.
    for args in ([], ["--close"]):
        with pytest.raises(CommandError, match="closed"):
            _command("--organization", slug, "--month", "2026-03", *args)
    assert {status for _, status in _earnings(march).values()} == {StatementStatus.FINAL}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--organization", "nobody", "--month", "2026-03"], "No organization 'nobody'"),
        (["--month", "March"], "--month must be YYYY-MM, not 'March'"),
        (["--month", "2026-13"], "--month must be YYYY-MM"),
        (["--month", "2026-04"], "has no accounting period 2026-04"),
    ],
)
def test_the_command_refuses_bad_arguments_and_writes_nothing(
    catalog: Any, march: AccountingPeriod, args: list[str], message: str
) -> None:
    if args[0] != "--organization":
        args = ["--organization", catalog.organization.slug, *args]

    with pytest.raises(CommandError, match=message):
        _command(*args)

    assert not Statement.objects.exists()


def test_the_command_names_missing_exchange_rates_and_writes_nothing(
    catalog: Any, march: AccountingPeriod, import_file: Any, tmp_path: Path
) -> None:
    import_file(
        catalog.organization,
        files.canonical([Sale(catalog.track_a.isrc, "", "US", "stream", 5, "1", "1", "USD")]),
    )
    slug, out = catalog.organization.slug, tmp_path / "statements"

    with pytest.raises(CommandError, match=r"Exchange rates are missing.*Missing: USD 2026-03"):
        _command("--organization", slug, "--month", "2026-03", "--close", "--export", str(out))

    assert not Statement.objects.exists()
    march.refresh_from_db()
    assert not march.is_closed
    assert not out.exists()


def test_the_command_refuses_an_export_path_that_is_a_file(
    catalog: Any, march: AccountingPeriod, tmp_path: Path
) -> None:
    target = tmp_path / "statements.csv"
    target.write_text("keep me")

    with pytest.raises(CommandError, match="is a file, not a folder"):
        _command("--organization", catalog.organization.slug, "--month", "2026-03",
                 "--export", str(target))  # fmt: skip

    assert target.read_text() == "keep me"
    assert not Statement.objects.exists()


def _action(client: Any, action: str, period: AccountingPeriod, **extra: str) -> Any:
    return client.post(
        reverse("admin:royalties_accountingperiod_changelist"),
        {"action": action, "_selected_action": [str(period.pk)], **extra},
        follow=True,
    )


def test_staff_generate_and_close_statements_in_the_admin(
    catalog: Any, march: AccountingPeriod
) -> None:
    viewer = _staff(catalog.organization, "viewer")
    refused = _action(viewer, "generate_statements", march).content.decode()
    assert "your role does not allow this" in refused
    assert not Statement.objects.exists()

    manager = _staff(catalog.organization, "manager")
    done = _action(manager, "generate_statements", march).content.decode()
    assert "2026-03" in done and "now has 2 draft statement(s)" in done
    assert _earnings(march)["Alice"] == (Decimal("6.00"), StatementStatus.DRAFT)
    listed = manager.get(reverse("admin:royalties_accountingperiod_changelist")).content.decode()
    assert f"?period__exact={march.pk}" in listed and ">2 draft</a>" in listed
    statements = manager.get(
        reverse("admin:royalties_statement_changelist") + f"?period__exact={march.pk}"
    )
    assert statements.status_code == 200 and "Alice" in statements.content.decode()

    # Closing asks first; only the confirmation closes.
    asked = _action(manager, "close_periods", march).content.decode()
    assert "Close these 1 period(s)?" in asked and 'name="apply"' in asked
    march.refresh_from_db()
    assert not march.is_closed

    closed = _action(manager, "close_periods", march, apply="Close").content.decode()
    assert "closed, with 2 final statement(s)" in closed
    march.refresh_from_db()
    assert march.is_closed
    assert {status for _, status in _earnings(march).values()} == {StatementStatus.FINAL}

    again = _action(manager, "generate_statements", march).content.decode()
    assert "The period is closed; its statements are final." in again
    assert {status for _, status in _earnings(march).values()} == {StatementStatus.FINAL}


def test_the_admin_names_missing_exchange_rates(
    catalog: Any, march: AccountingPeriod, import_file: Any
) -> None:
    import_file(
        catalog.organization,
        files.canonical([Sale(catalog.track_a.isrc, "", "US", "stream", 5, "1", "1", "GBP")]),
    )
    manager = _staff(catalog.organization, "manager")

    shown = _action(manager, "close_periods", march, apply="Close").content.decode()

    assert "Exchange rates are missing for some sales; load them first. Missing: GBP 2026-03." in (
        shown
    )
    march.refresh_from_db()
    assert not march.is_closed and not Statement.objects.exists()


def test_staff_download_a_statement_as_csv_from_the_admin(
    catalog: Any, march: AccountingPeriod
) -> None:
    _command("--organization", catalog.organization.slug, "--month", "2026-03")
    bob = Statement.objects.get(period=march, payee__name="Bob")
    page = reverse("admin:royalties_statement_change", args=[bob.pk])
    download = reverse("admin:royalties_statement_csv", args=[bob.pk])
    viewer = _staff(catalog.organization, "viewer")

    assert download in viewer.get(page).content.decode()
    response = viewer.get(download)

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv"
    assert response["Content-Disposition"] == (
        f'attachment; filename="statement-2026-03-{bob.payee_id}.csv"'
    )
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0][:2] == ["payee", "Bob"]
    assert sum(Decimal(row[9]) for row in rows[2:] if len(row) == 11) == Decimal("4.00")
    assert rows[-1] == ["closing_balance", "4.00"]

    outsider = _staff(OrganizationFactory(), "owner")
    assert outsider.get(download).status_code == 404


def test_the_admin_keeps_the_books_as_they_are(
    catalog: Any, march: AccountingPeriod, import_file: Any
) -> None:
    """Statements are not deleted (drafts are rebuilt from the period), nor a report's
    products; a period's month and organization do not change, and a closed one stays."""
    import_file(
        catalog.organization,
        files.canonical([Sale("USXYZ2600001", "", "SE", "stream", 5, "1", "1")]),
    )
    _command("--organization", catalog.organization.slug, "--month", "2026-03")
    manager = _staff(catalog.organization, "manager")
    statement = Statement.objects.filter(period=march).first()
    assert statement is not None
    product = UnmatchedProduct.objects.get(isrc="USXYZ2600001")

    for page in (
        reverse("admin:royalties_statement_delete", args=[statement.pk]),
        reverse("admin:royalties_unmatchedproduct_delete", args=[product.pk]),
    ):
        assert manager.post(page, {"post": "yes"}).status_code == 403
    assert Statement.objects.filter(period=march).count() == 2
    assert UnmatchedProduct.objects.filter(pk=product.pk).exists()

    change = reverse("admin:royalties_accountingperiod_change", args=[march.pk])
    other = OrganizationFactory()  # one the manager may write in too: a choice the form offers
    MembershipFactory(
        organization=other,
        user=User.objects.get(email=f"manager@{catalog.organization.slug}.test"),
        role="manager",
    )
    manager.post(change, {"month": "2026-07-01", "organization": str(other.pk)})
    march.refresh_from_db()
    assert (march.month, march.organization_id) == (MARCH, catalog.organization.pk)

    empty = AccountingPeriod.objects.create(
        organization=catalog.organization, month=dt.date(2026, 9, 1), closed_at=march.created_at
    )
    delete = reverse("admin:royalties_accountingperiod_delete", args=[empty.pk])
    assert manager.get(delete).status_code == 403
    listed = reverse("admin:royalties_accountingperiod_changelist")
    bulk = manager.post(
        listed, {"action": "delete_selected", "_selected_action": [str(empty.pk)], "post": "yes"}
    )
    assert bulk.status_code == 403  # Django asks each object's delete permission
    assert AccountingPeriod.objects.filter(pk=empty.pk).exists()


def test_closing_several_periods_in_the_admin_closes_them_oldest_first(
    catalog: Any, march: AccountingPeriod, import_file: Any
) -> None:
    import_file(
        catalog.organization,
        files.canonical(
            [Sale(catalog.track_a.isrc, "", "DE", "stream", 1, "1", "1")], month="2026-04"
        ),
    )
    april = AccountingPeriod.objects.get(organization=catalog.organization, month=APRIL)
    manager = _staff(catalog.organization, "manager")

    closed = manager.post(
        reverse("admin:royalties_accountingperiod_changelist"),
        {"action": "close_periods", "_selected_action": [str(april.pk), str(march.pk)],
         "apply": "Close"},
        follow=True,
    ).content.decode()  # fmt: skip

    assert "2026-03" in closed and "2026-04" in closed and "Close 2026-03 first" not in closed
    assert AccountingPeriod.objects.filter(closed_at__isnull=False).count() == 2
