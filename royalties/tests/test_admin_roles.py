"""Royalties in the admin panel by organization role: staff see their own organizations'
reports (with progress and errors) and statements; a viewer looks but cannot match lines."""

from __future__ import annotations

from typing import Any

from django.test import Client
from django.urls import reverse

from accounts.models import User
from accounts.tests.factories import MembershipFactory, OrganizationFactory
from royalties.models import ReportProduct, SalesLine
from royalties.tests import files
from royalties.tests.files import Sale


def _staff(organization: Any, role: str) -> Client:
    user = User.objects.create_user(f"{role}@{organization.slug}.test", "pw-123456789")
    User.objects.filter(pk=user.pk).update(is_staff=True)
    MembershipFactory(organization=organization, user=user, role=role)
    client = Client()
    client.force_login(user)
    return client


def test_staff_see_their_reports_and_only_writers_match(catalog: Any, import_file: Any) -> None:
    report = import_file(
        catalog.organization,
        files.canonical([Sale("USXYZ2600001", "", "DE", "stream", 3, "1", "0.25")]) + b"bad,line\n",
    )
    stranger_org = OrganizationFactory()
    product = ReportProduct.objects.get(report=report)
    line = SalesLine.objects.get(product=product)
    reports = reverse("admin:royalties_salesreport_changelist")
    queue = reverse("admin:royalties_unmatchedproduct_changelist")

    viewer = _staff(catalog.organization, "viewer")
    page = viewer.get(reverse("admin:royalties_salesreport_change", args=[report.pk]))
    assert page.status_code == 200
    assert b"line 3: expected 10 fields, found 2" in page.content  # errors, with line numbers
    assert report.original_filename.encode() in viewer.get(reports).content
    assert b"USXYZ2600001" in viewer.get(queue).content
    viewer.post(
        queue,
        {"action": "match_products", "_selected_action": [product.pk], "apply": "1",
         "track": str(catalog.track_a.pk)},
    )  # fmt: skip
    product.refresh_from_db()
    assert product.track_id is None  # a viewer may not match

    outsider = _staff(stranger_org, "owner")
    assert report.original_filename.encode() not in outsider.get(reports).content
    assert b"USXYZ2600001" not in outsider.get(queue).content
    assert (
        outsider.get(reverse("admin:royalties_salesreport_change", args=[report.pk])).status_code
        == 302
    )

    manager = _staff(catalog.organization, "manager")
    manager.post(
        queue,
        {"action": "match_products", "_selected_action": [product.pk], "apply": "1",
         "track": str(catalog.track_a.pk)},
    )  # fmt: skip
    product.refresh_from_db()
    assert product.track_id == catalog.track_a.pk
    assert SalesLine.objects.get(pk=line.pk).product.release_id == catalog.release.pk
    report.refresh_from_db()
    assert report.lines_matched == 1
    statements = manager.get(reverse("admin:royalties_statement_changelist"))
    assert statements.status_code == 200


def _report_file(name: str, content: bytes) -> Any:
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, content, content_type="text/csv")


def test_staff_upload_a_report_in_the_admin(
    catalog: Any, django_capture_on_commit_callbacks: Any, settings: Any
) -> None:
    from royalties.models import SalesReport

    upload_url = reverse("admin:royalties_salesreport_upload")
    content = files.canonical([Sale("USXYZ2600001", "", "DE", "stream", 3, "1", "0.25")])
    manager = _staff(catalog.organization, "manager")
    assert (
        b"Upload a sales report"
        in manager.get(reverse("admin:royalties_salesreport_changelist")).content
    )
    with django_capture_on_commit_callbacks(execute=True):  # the queued import runs
        response = manager.post(
            upload_url,
            {
                "organization": catalog.organization.pk,
                "store": "spotify",
                "file": _report_file("october.csv", content),
            },
        )
    report = SalesReport.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:royalties_salesreport_change", args=[report.pk])
    report.refresh_from_db()
    assert report.status == "imported" and report.lines_loaded == 1
    assert report.uploaded_by.email == "manager@" + catalog.organization.slug + ".test"

    # The same file again: refused on the form, nothing new stored.
    again = manager.post(
        upload_url,
        {
            "organization": catalog.organization.pk,
            "store": "spotify",
            "file": _report_file("october-again.csv", content),
        },
    )
    assert again.status_code == 200
    assert "already been uploaded" in again.content.decode()
    # A file no layout recognises: refused, nothing stored.
    junk = manager.post(
        upload_url,
        {
            "organization": catalog.organization.pk,
            "store": "nowhere",
            "file": _report_file("junk.csv", b"hello\nworld\n"),
        },
    )
    assert junk.status_code == 200 and junk.context["form"].non_field_errors()
    assert SalesReport.objects.count() == 1
    # Over the size limit: refused on the form like the API's 413.
    settings.SALES_REPORT_MAX_BYTES = 10
    big = manager.post(
        upload_url,
        {
            "organization": catalog.organization.pk,
            "store": "spotify",
            "file": _report_file("november.csv", content.replace(b"0.25", b"0.26")),
        },
    )
    assert big.status_code == 200 and "larger than" in big.content.decode()
    assert SalesReport.objects.count() == 1

    viewer = _staff(catalog.organization, "viewer")
    assert viewer.get(upload_url).status_code == 403
    assert (
        b"Upload a sales report"
        not in viewer.get(reverse("admin:royalties_salesreport_changelist")).content
    )
    # Only the user's own organizations are offered.
    stranger = OrganizationFactory()
    refused = manager.post(
        upload_url,
        {"organization": stranger.pk, "store": "spotify", "file": _report_file("x.csv", content)},
    )
    assert refused.status_code == 200 and "organization" in refused.context["form"].errors
    assert SalesReport.objects.count() == 1


def test_royalties_pages_render_with_demo_data(catalog: Any) -> None:
    from distribution.tests.factories import ArtistFactory
    from royalties.demo import royalties_demo_seed

    for track in catalog.release.tracks.all():  # the demo report names the tracks' ISRCs
        assert track.isrc
    report, statements = royalties_demo_seed(
        organization=catalog.organization,
        release=catalog.release,
        artist=ArtistFactory(organization=catalog.organization, name="Aurora Vale"),
    )
    assert report.lines_bad == 1 and len(statements) == 2
    client = _staff(catalog.organization, "owner")
    for page in ("payee", "split", "recoupableexpense", "exchangerate", "statement", "payment",
                 "accountingperiod"):  # fmt: skip
        response = client.get(reverse(f"admin:royalties_{page}_changelist"))
        assert response.status_code == 200, page
    paid = client.get(reverse("admin:royalties_payment_changelist")).content.decode()
    assert "Demo advance" in paid
    producer = next(s for s in statements if s.payee.name == "North Pole Production")
    assert producer.payments == 100
    assert producer.closing_balance == producer.earnings - producer.recoupment - 100
    statement = client.get(reverse("admin:royalties_statement_change", args=[statements[0].pk]))
    assert statement.status_code == 200
    assert "Aurora Vale" in statement.content.decode() or "North Pole" in statement.content.decode()


def test_a_periods_page_shows_the_earnings_on_no_statement(catalog: Any, import_file: Any) -> None:
    from datetime import date
    from decimal import Decimal

    from royalties.models import AccountingPeriod
    from royalties.services import money

    payee = money.payee_create(organization=catalog.organization, name="Alice")
    money.splits_set(
        organization=catalog.organization,
        track=catalog.track_a,
        valid_from=date(2026, 1, 1),
        shares=[(payee, Decimal(100))],
    )
    import_file(
        catalog.organization,
        files.canonical(
            [
                Sale(catalog.track_a.isrc, "", "DE", "stream", 10, "1", "1.00"),
                Sale(catalog.track_b.isrc, "", "FR", "stream", 20, "1", "2.5061"),
            ]
        ),
    )
    period = AccountingPeriod.objects.get(organization=catalog.organization)
    client = _staff(catalog.organization, "viewer")
    page = reverse("admin:royalties_accountingperiod_change", args=[period.pk])

    shown = client.get(page).content.decode()

    assert "2.51 EUR in 1 group(s)" in shown
    assert (
        f"<td>{catalog.track_b.title}</td><td>spotify</td><td>FR</td><td>1</td><td>2.51</td>"
        in shown
    )
    assert catalog.track_a.title not in shown.split("Earnings on no statement")[1]

    import_file(
        catalog.organization,
        files.canonical([Sale(catalog.track_b.isrc, "", "US", "stream", 1, "1", "1", "USD")]),
    )
    assert "USD 2026-03" in client.get(page).content.decode()
