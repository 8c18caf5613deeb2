"""The drop folder (or S3 prefix) stores and operators put sales reports in, picked up on a
schedule.

Layout: `<root>/<organization slug>/<store code>/<file>`, where the root is
`ROYALTIES_DROP_ROOT` on local disk, or `ROYALTIES_DROP_S3_PREFIX` in the bucket
`ROYALTIES_DROP_S3_BUCKET` (any Django storage works: the job only lists, reads, writes and
deletes). A picked-up file is moved to `.../archive/` once its report row exists (its import
queued), or to `.../refused/` with a `<name>.reason.txt` beside it when it is refused
(duplicate, unknown layout). Files changed in the last minute may still be being written and
wait for the next run.
"""

from __future__ import annotations

import datetime as dt
import tempfile

import structlog
from django.conf import settings
from django.core.files import File
from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage, Storage
from django.utils import timezone

from accounts.models import Organization
from distribution.services.assets import ReceivedUpload
from enterprise_suite.errors import ApplicationError
from royalties.models import SalesReport
from royalties.services.reports import sales_report_upload

logger = structlog.get_logger(__name__)
SETTLE = dt.timedelta(seconds=60)


def drop_storage() -> Storage:
    if settings.ROYALTIES_DROP_S3_BUCKET:
        from storages.backends.s3 import S3Storage

        return S3Storage(
            bucket_name=settings.ROYALTIES_DROP_S3_BUCKET,
            location=settings.ROYALTIES_DROP_S3_PREFIX,
            region_name=getattr(settings, "AWS_S3_REGION_NAME", None) or None,
            endpoint_url=getattr(settings, "AWS_S3_ENDPOINT_URL", None) or None,
            file_overwrite=True,
        )
    return FileSystemStorage(location=settings.ROYALTIES_DROP_ROOT)


def _receive(storage: Storage, name: str) -> ReceivedUpload:
    """The stored file copied to a local temporary file while hashed."""
    target = tempfile.NamedTemporaryFile()  # noqa: SIM115 (the ReceivedUpload owns it)
    try:
        with storage.open(name, "rb") as source:
            return ReceivedUpload.hashed(source, file=target, filename=name.rsplit("/", 1)[-1])
    except BaseException:
        target.close()
        raise


def _move(storage: Storage, name: str, folder: str, reason: str = "") -> None:
    directory, filename = name.rsplit("/", 1)
    with storage.open(name, "rb") as source:
        storage.save(f"{directory}/{folder}/{filename}", File(source))
    if reason:
        storage.save(f"{directory}/{folder}/{filename}.reason.txt", ContentFile(reason + "\n"))
    storage.delete(name)


def sales_reports_pick_up(
    *, storage: Storage | None = None, settle: dt.timedelta = SETTLE
) -> list[SalesReport]:
    storage = storage or drop_storage()
    reports: list[SalesReport] = []
    try:
        organization_dirs, _ = storage.listdir("")
    except FileNotFoundError:
        return reports
    now = timezone.now()
    for slug in sorted(organization_dirs):
        organization = Organization.objects.filter(slug=slug).first()
        if organization is None:
            continue
        store_dirs, _ = storage.listdir(slug)
        for store in sorted(store_dirs):
            _, filenames = storage.listdir(f"{slug}/{store}")
            for filename in sorted(filenames):
                name = f"{slug}/{store}/{filename}"
                if filename.startswith(".") or now - storage.get_modified_time(name) < settle:
                    continue
                upload = _receive(storage, name)
                try:
                    report = sales_report_upload(
                        organization=organization, upload=upload, store_code=store
                    )
                except ApplicationError as exc:
                    logger.warning("sales_report_refused", path=name, reason=exc.message)
                    _move(storage, name, "refused", exc.message)
                    continue
                finally:
                    upload.close()
                _move(storage, name, "archive")
                reports.append(report)
    return reports
