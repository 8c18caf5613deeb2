"""Royalties background tasks: thin wrappers that call one service."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="royalties.sales_report_import", acks_late=True)
def sales_report_import(report_id: str) -> str | None:
    from royalties.services.reports import sales_report_import as run_import

    report = run_import(report_id=report_id)
    return report.status if report else None


@shared_task(name="royalties.sales_reports_pick_up")
def sales_reports_pick_up() -> int:
    from royalties.services.dropfolder import sales_reports_pick_up as pick_up

    return len(pick_up())
