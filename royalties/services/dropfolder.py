"""The drop folder stores (or operators) put sales reports in, picked up on a schedule.

Layout: `<ROYALTIES_DROP_ROOT>/<organization slug>/<store code>/<file>`. A picked-up file is
moved to `.../archive/` once its report row exists (queued for import), or to
`.../refused/` with a `.reason.txt` beside it when it is refused (duplicate, unknown layout).
Files still being written are skipped until they have not changed for a minute.
"""

from __future__ import annotations

import time
from pathlib import Path

import structlog
from django.conf import settings

from accounts.models import Organization
from enterprise_suite.errors import ApplicationError
from royalties.models import SalesReport
from royalties.services.reports import sales_report_upload_path_file

logger = structlog.get_logger(__name__)
SETTLE_SECONDS = 60
SKIP = {"archive", "refused"}


def _move(path: Path, folder: str, reason: str = "") -> None:
    target = path.parent / folder
    target.mkdir(exist_ok=True)
    path.rename(target / path.name)
    if reason:
        (target / f"{path.name}.reason.txt").write_text(reason + "\n")


def sales_reports_pick_up(
    *, root: Path | None = None, settle_seconds: int = SETTLE_SECONDS
) -> list[SalesReport]:
    root = Path(root or settings.ROYALTIES_DROP_ROOT)
    reports: list[SalesReport] = []
    if not root.is_dir():
        return reports
    now = time.time()
    for org_dir in sorted(p for p in root.iterdir() if p.is_dir()):
        organization = Organization.objects.filter(slug=org_dir.name).first()
        if organization is None:
            continue
        for store_dir in sorted(p for p in org_dir.iterdir() if p.is_dir()):
            for path in sorted(p for p in store_dir.iterdir() if p.is_file()):
                if path.name.startswith(".") or now - path.stat().st_mtime < settle_seconds:
                    continue
                try:
                    report = sales_report_upload_path_file(
                        organization=organization, path=path, store_code=store_dir.name
                    )
                except ApplicationError as exc:
                    logger.warning("sales_report_refused", path=str(path), reason=exc.message)
                    _move(path, "refused", exc.message)
                    continue
                _move(path, "archive")
                reports.append(report)
    return reports
