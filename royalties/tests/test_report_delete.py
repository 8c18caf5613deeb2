"""Deleting a sales report uploaded by mistake: its lines, products and file go, other
reports' stay; refused while it is imported or once a period it counts in has closed; by
service, API and admin."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.files.storage import default_storage
from django.urls import reverse

from accounts.choices import Role
from accounts.tests.factories import OrganizationFactory
from enterprise_suite.errors import InvalidTransition
from realtime.models import Event
from royalties.choices import ReportStatus
from royalties.models import ReportProduct, SalesLine, SalesLineBlock, SalesReport
from royalties.services.report_delete import sales_report_delete
from royalties.services.statements import period_close
from royalties.tests import files
from royalties.tests.files import Sale
from royalties.tests.test_admin_roles import _staff


def _sales(catalog: Any, territory: str = "DE") -> list[Sale]:
    return [
        Sale(catalog.track_a.isrc, "", territory, "stream", 10, "1", "0.75"),
        Sale("USXYZ2600001", "", territory, "stream", 5, "1", "0.25"),
    ]


def test_deleting_a_report_removes_its_lines_products_and_file_only(
    catalog: Any, import_file: Any, django_capture_on_commit_callbacks: Any
) -> None:
    kept = import_file(catalog.organization, files.canonical(_sales(catalog, "FR")))
    mistake = import_file(catalog.organization, files.canonical(_sales(catalog)))
    stored = mistake.file.name
    assert default_storage.exists(stored)

    with django_capture_on_commit_callbacks(execute=True):  # the file goes once committed
        sales_report_delete(report=mistake)

    assert list(SalesReport.objects.all()) == [kept]
    assert not ReportProduct.objects.filter(report_id=mistake.pk).exists()
    assert not SalesLineBlock.objects.filter(report_id=mistake.pk).exists()
    assert sorted(line.territory for line in SalesLine.objects.all()) == ["FR", "FR"]
    assert not default_storage.exists(stored)
    assert default_storage.exists(kept.file.name)
    event = Event.objects.get(type="sales_report.deleted")
    assert (event.subject_id, event.data["lines_loaded"]) == (mistake.pk, 2)
    # The same file may be uploaded again: the deleted report no longer holds its checksum.
    again = import_file(catalog.organization, files.canonical(_sales(catalog)))
    assert again.status == ReportStatus.IMPORTED


def test_a_report_counted_in_a_closed_period_or_being_imported_stays(
    catalog: Any, import_file: Any
) -> None:
    report = import_file(catalog.organization, files.canonical(_sales(catalog)))
    period_close(period=report.accounting_period)

    with pytest.raises(InvalidTransition, match="Its sales count in 2026-03, closed"):
        sales_report_delete(report=report)

    assert SalesLine.objects.count() == 2 and ReportProduct.objects.count() == 2
    assert default_storage.exists(report.file.name)

    importing = import_file(catalog.organization, files.canonical(_sales(catalog, "SE")))
    SalesReport.objects.filter(pk=importing.pk).update(status=ReportStatus.IMPORTING)
    with pytest.raises(InvalidTransition, match="being imported"):
        sales_report_delete(report=importing)
    assert SalesReport.objects.count() == 2


def test_a_rejected_report_is_deleted_whatever_the_periods(catalog: Any, import_file: Any) -> None:
    header_only = b"store,period,territory,isrc,upc\n"  # columns missing: rejected whole
    rejected = import_file(catalog.organization, header_only, layout="canonical")
    assert rejected.status == ReportStatus.REJECTED

    sales_report_delete(report=rejected)

    assert not SalesReport.objects.exists()


def test_reports_deleted_by_api(catalog: Any, import_file: Any, make_caller: Any) -> None:
    report = import_file(catalog.organization, files.canonical(_sales(catalog)))
    url = f"/api/v1/sales-reports/{report.pk}/"
    viewer = make_caller(organization=catalog.organization, role=Role.VIEWER)
    outsider = make_caller(organization=OrganizationFactory())
    writer = make_caller(organization=catalog.organization)

    assert viewer.client.delete(url).status_code == 403
    assert outsider.client.delete(url).status_code == 404
    assert SalesLine.objects.count() == 2

    assert writer.client.delete(url).status_code == 204
    assert writer.client.get(url).status_code == 404
    assert not SalesLine.objects.exists()

    closed = import_file(catalog.organization, files.canonical(_sales(catalog, "FR")))
    period_close(period=closed.accounting_period)
    refused = writer.client.delete(f"/api/v1/sales-reports/{closed.pk}/")
    assert refused.status_code == 409
    assert refused.json()["error"]["details"] == {"closed_periods": ["2026-03"]}
    assert SalesLine.objects.count() == 2


def test_staff_delete_a_report_in_the_admin(catalog: Any, import_file: Any) -> None:
    report = import_file(catalog.organization, files.canonical(_sales(catalog)))
    manager = _staff(catalog.organization, "manager")
    delete = reverse("admin:royalties_salesreport_delete", args=[report.pk])

    asked = manager.get(delete).content.decode()
    assert "2 product(s), 2 sales line(s)" in asked  # counted, not listed line by line
    manager.post(delete, {"post": "yes"})

    assert not SalesReport.objects.exists() and not SalesLine.objects.exists()

    closed = import_file(catalog.organization, files.canonical(_sales(catalog, "FR")))
    period_close(period=closed.accounting_period)
    closed_delete = reverse("admin:royalties_salesreport_delete", args=[closed.pk])
    assert manager.get(closed_delete).status_code == 403
    assert manager.post(closed_delete, {"post": "yes"}).status_code == 403
    assert SalesLine.objects.count() == 2


def test_the_admins_bulk_delete_page_counts_each_reports_own_rows(
    catalog: Any, import_file: Any
) -> None:
    two = import_file(catalog.organization, files.canonical(_sales(catalog)))
    one = import_file(catalog.organization, files.canonical(_sales(catalog, "FR")[:1]))
    manager = _staff(catalog.organization, "manager")

    asked = manager.post(
        reverse("admin:royalties_salesreport_changelist"),
        {"action": "delete_selected", "_selected_action": [str(two.pk), str(one.pk)]},
    ).content.decode()

    assert f"{two}: 2 product(s), 2 sales line(s)" in asked
    assert f"{one}: 1 product(s), 1 sales line(s)" in asked
    assert SalesReport.objects.count() == 2  # asked, not deleted
