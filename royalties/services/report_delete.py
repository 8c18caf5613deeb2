"""Deleting a sales report uploaded by mistake: its lines, products and file, while the
periods its sales count in are open. A closed period's statements are final and trace to
their report lines, so a report counted there stays."""

from __future__ import annotations

from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import QuerySet

from accounts.models import User
from enterprise_suite.errors import InvalidTransition
from realtime.events import publish
from royalties.choices import ReportStatus
from royalties.models import (
    AccountingPeriod,
    ReportProduct,
    SalesLine,
    SalesLineBlock,
    SalesReport,
)
from royalties.services.periods import period_share_locked


def _report_periods(report: SalesReport) -> QuerySet[AccountingPeriod]:
    """The periods the report's sales count in: its own, and those its hand-matched products
    moved to."""
    period_ids = set(
        ReportProduct.objects.filter(report=report).values_list("period_id", flat=True).distinct()
    )
    if report.accounting_period_id:
        period_ids.add(report.accounting_period_id)
    return AccountingPeriod.objects.filter(pk__in=period_ids).order_by("month")


def report_closed_periods(report: SalesReport) -> list[AccountingPeriod]:
    return [period for period in _report_periods(report) if period.is_closed]


def sales_report_delete(*, report: SalesReport, actor: User | None = None) -> None:
    """Delete the report with its lines, products and stored file. Refused (409) while it
    is being imported, or once a period its sales count in has closed."""
    with transaction.atomic():
        locked = SalesReport.objects.select_for_update().get(pk=report.pk)
        if locked.status == ReportStatus.IMPORTING:
            raise InvalidTransition(
                "The report is being imported; delete it once its import has ended.",
                details={"status": locked.status},
            )
        # Share-locked, as imports lock them: a close waits for the deletion, and one in
        # progress is waited for and then seen.
        periods = [period_share_locked(period.pk) for period in _report_periods(locked)]
        closed = [str(period) for period in periods if period.is_closed]
        if closed:
            raise InvalidTransition(
                f"Its sales count in {', '.join(closed)}, closed: the final statements there "
                "trace to its lines.",
                details={"closed_periods": closed},
            )
        block = SalesLineBlock.objects.filter(report=locked).first()
        if block is not None:
            # By id range (the BRIN index finds a report's lines), before the products, whose
            # cascade would look for lines by product.
            SalesLine.objects.filter(id__range=block.ids).delete()
        file_name = locked.file.name
        publish(
            organization_id=locked.organization_id,
            type="sales_report.deleted",
            subject_type="sales_report",
            subject_id=locked.pk,
            actor_id=actor.pk if actor else None,
            data={
                "store": locked.store_code,
                "filename": locked.original_filename,
                "status": locked.status,
                "lines_loaded": locked.lines_loaded,
                "period": str(locked.accounting_period) if locked.accounting_period else None,
            },
        )
        locked.delete()
        if file_name:
            transaction.on_commit(lambda: default_storage.delete(file_name))
