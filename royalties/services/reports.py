"""Sales reports: upload, import (parse, validate, load, match) and manual matching."""

from __future__ import annotations

import codecs
import datetime as dt
import time
import uuid
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import structlog
from django.conf import settings
from django.core.cache import cache
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from accounts.models import Organization, User
from distribution.models import Release, Track
from distribution.services.assets import ReceivedUpload, upload_too_large
from enterprise_suite import metrics
from enterprise_suite.errors import Conflict, InvalidTransition, PayloadTooLarge, ValidationFailed
from realtime.events import publish
from royalties import parsers
from royalties.choices import ReportStatus
from royalties.compressed import ExpandsTooFar, ReportContent, opened_report, report_content
from royalties.models import ReportProduct, SalesReport, sales_report_upload_path
from royalties.services.periods import accounting_period_for, first_of_month

if TYPE_CHECKING:
    from royalties.loading import LineSink as LineSinkType

logger = structlog.get_logger(__name__)

PROGRESS_SECONDS = 0.25  # how often a running import reports its progress
ProgressCallback = Callable[[int], None]


class ReportRejected(Exception):
    def __init__(self, message: str, errors: list[dict[str, Any]], bad: int, total: int) -> None:
        super().__init__(message)
        self.message, self.errors, self.bad, self.total = message, errors, bad, total


def progress_key(report_id: uuid.UUID | str) -> str:
    return f"royalties:report-progress:{report_id}"


def _publish(report: SalesReport, previous: str, actor: User | None = None) -> None:
    publish(
        organization_id=report.organization_id,
        type="sales_report.status_changed",
        subject_type="sales_report",
        subject_id=report.pk,
        actor_id=actor.pk if actor else None,
        data={
            "from": previous,
            "to": report.status,
            "store": report.store_code,
            "layout": report.layout,
            "lines_total": report.lines_total,
            "lines_loaded": report.lines_loaded,
            "lines_bad": report.lines_bad,
            "lines_matched": report.lines_matched,
            "error": report.error,
        },
    )


def received_from_path(path: Path) -> ReceivedUpload:
    """A local file as a `ReceivedUpload` (digests computed by streaming it once)."""
    return received_from_stream(path.open("rb"), filename=path.name)


def received_from_stream(handle: IO[bytes], *, filename: str) -> ReceivedUpload:
    """A seekable file (a local file, an upload Django spooled) as a `ReceivedUpload`."""
    handle.seek(0)
    return ReceivedUpload.hashed(handle, file=handle, filename=filename)


def _layout_for(store_code: str, layout: str | None, head: bytes) -> str:
    if layout:
        if parsers.layout_get(layout) is None:
            raise ValidationFailed(
                f"Unknown layout '{layout}'.",
                details={"layout": [f"Choose one of: {', '.join(sorted(parsers.LAYOUTS))}."]},
            )
        return layout
    text = codecs.getincrementaldecoder("utf-8")(errors="replace").decode(head)
    detected = parsers.layout_detect(text)
    if detected is None and store_code in parsers.STORE_LAYOUTS:
        return parsers.STORE_LAYOUTS[store_code]
    if detected is None:
        raise ValidationFailed(
            "The report's layout could not be detected from its first line; name it.",
            details={"layout": [f"One of: {', '.join(sorted(parsers.LAYOUTS))}."]},
        )
    return detected.code


def _content(upload: ReceivedUpload) -> ReportContent:
    """The upload's text (decompressed if it is gzip or zip): its checksum and first bytes.
    A compressed file that cannot be read is refused here, before it is stored."""
    limit = settings.SALES_REPORT_MAX_EXPANDED_BYTES
    try:
        return report_content(upload.file, sha256=upload.sha256, head=upload.head, max_bytes=limit)
    except ExpandsTooFar as exc:
        raise PayloadTooLarge(str(exc), details={"max_expanded_bytes": limit}) from None
    except parsers.ReportMalformed as exc:
        raise ValidationFailed(str(exc), details={"file": [str(exc)]}) from None


def sales_report_upload(
    *,
    organization: Organization,
    upload: ReceivedUpload,
    store_code: str,
    layout: str | None = None,
    period: dt.date | None = None,
    uploaded_by: User | None = None,
    enqueue: bool = True,
) -> SalesReport:
    """Store a received report file and queue its import. The same file (same SHA-256)
    twice in an organization is refused with 409, unless the earlier one was rejected."""
    if upload.size > settings.SALES_REPORT_MAX_BYTES:  # every way in: API, admin, drop folder
        raise upload_too_large(settings.SALES_REPORT_MAX_BYTES, size=upload.size)
    store_code = store_code.strip().lower()
    if not store_code:
        raise ValidationFailed("Name the store.", details={"store": ["This field is required."]})
    content = _content(upload)
    layout_code = _layout_for(store_code, layout, content.head)
    live = SalesReport.objects.filter(organization=organization, checksum=content.sha256).exclude(
        status__in=[ReportStatus.REJECTED, ReportStatus.FAILED]
    )
    duplicate = live.first()
    if duplicate is not None:
        raise Conflict(
            "This file has already been uploaded.",
            code="duplicate_report",
            details={"report_id": str(duplicate.pk), "checksum": content.sha256},
        )
    report = SalesReport(
        id=uuid.uuid4(),
        organization=organization,
        store_code=store_code,
        layout=layout_code,
        period=first_of_month(period) if period else None,
        original_filename=upload.filename[:255],
        size_bytes=upload.size,
        checksum=content.sha256,  # of the text: the same report gzipped is a duplicate
        uploaded_by=uploaded_by,
    )
    upload.file.seek(0)
    stored_name = default_storage.save(
        sales_report_upload_path(report, upload.filename), File(upload.file)
    )
    try:
        with transaction.atomic():
            report.file.name = stored_name
            report.save(force_insert=True)
            _publish(report, previous="", actor=uploaded_by)
            if enqueue:
                from royalties.tasks import sales_report_import

                sales_report_import.delay_on_commit(str(report.pk))  # type: ignore[attr-defined]
    except IntegrityError:
        default_storage.delete(stored_name)
        raise Conflict("This file has already been uploaded.", code="duplicate_report") from None
    except BaseException:
        default_storage.delete(stored_name)
        raise
    return report


def sales_report_upload_path_file(
    *,
    organization: Organization,
    path: Path,
    store_code: str,
    layout: str | None = None,
    period: dt.date | None = None,
    enqueue: bool = True,
) -> SalesReport:
    upload = received_from_path(path)
    try:
        return sales_report_upload(
            organization=organization,
            upload=upload,
            store_code=store_code,
            layout=layout,
            period=period,
            enqueue=enqueue,
        )
    finally:
        upload.close()


def _load(report: SalesReport, progress: ProgressCallback | None) -> tuple[int, int, int]:
    """Parse and load the report's lines; returns (total, loaded, matched). Raises
    `ReportRejected` when the file is malformed or has too many bad lines."""
    # Imported here: with the polars reader, the loader loads polars (about 40 MB in a
    # process) for the first import, not every web, worker and beat process at start-up.
    from royalties.loading import ProductRegistry, line_sink
    from royalties.parsers.chunks import read_chunks, table_reader

    layout = parsers.layout_get(report.layout)
    if layout is None:
        raise ReportRejected(f"Unknown layout '{report.layout}'.", [], 0, 0)
    context = parsers.ParseContext(store=report.store_code, period=report.period)
    tally = _BadLines(settings.ROYALTIES_MAX_BAD_LINES, settings.ROYALTIES_MAX_LISTED_ERRORS)
    loaded, next_progress = 0, 0.0
    with report.file.open("rb") as stored, ExitStack() as open_sink:
        # The storage's own file object, not Django's wrappers (whose `closed` property the
        # text layer would call on every line).
        raw = getattr(stored.file, "file", stored.file) or stored
        sink: LineSinkType | None = None
        registry = ProductRegistry(report)
        try:
            limit = settings.SALES_REPORT_MAX_EXPANDED_BYTES
            raw = open_sink.enter_context(opened_report(raw, max_bytes=limit))
            reader = table_reader(layout, settings.ROYALTIES_IMPORT_READER)
            chunks = read_chunks(layout, raw, context, registry.identify, reader=reader)
            for chunk in chunks:
                if sink is None:
                    first = chunk.first_good()
                    tally.add(chunk.rows, before=first[0] if first else None)
                    if tally.over:
                        raise tally.rejected_before_first_good()
                    if first is None:
                        continue
                    sale_month = report.period or first[1]
                    period = accounting_period_for(
                        organization=report.organization, month=sale_month, lock=True
                    )
                    report.period, report.accounting_period = sale_month, period
                    registry.period_id = period.pk
                    threaded = reader == "polars"  # see line_sink
                    sink = open_sink.enter_context(line_sink(registry, threaded=threaded))
                    tally.add(chunk.rows, after=first[0])
                else:
                    tally.add(chunk.rows)
                if tally.over:
                    break
                sink.write_chunk(chunk)
                loaded += chunk.good
                if progress is not None and time.monotonic() >= next_progress:
                    # A few times a second: chunks can be a few hundred lines each.
                    progress(loaded + tally.bad)
                    next_progress = time.monotonic() + PROGRESS_SECONDS
            if tally.over:  # raised inside the sink: its COPY is abandoned, no products written
                raise ReportRejected(
                    f"More than {tally.limit} bad lines; the report was rejected whole.",
                    tally.errors,
                    tally.bad,
                    loaded + tally.bad,
                )
            if sink is None:
                raise ReportRejected(
                    "The report has no valid lines.", tally.errors, tally.bad, tally.bad
                )
        except parsers.ReportMalformed as exc:
            raise ReportRejected(str(exc), tally.errors, tally.bad, loaded + tally.bad) from None
        except UnicodeDecodeError:
            raise ReportRejected(
                f"The file is not UTF-8 text. {parsers.SAVE_AS_UTF8}",
                tally.errors,
                tally.bad,
                loaded + tally.bad,
            ) from None
    total = loaded + tally.bad
    matched = sink.matched
    report.errors = tally.errors
    metrics.royalties_lines_imported(layout=report.layout, outcome="loaded", count=loaded)
    metrics.royalties_lines_imported(layout=report.layout, outcome="bad", count=tally.bad)
    metrics.royalties_lines_imported(layout=report.layout, outcome="matched", count=matched)
    metrics.royalties_lines_imported(
        layout=report.layout, outcome="unmatched", count=loaded - matched
    )
    if progress is not None:
        progress(total)
    return total, loaded, matched


class _BadLines:
    """The report's bad lines: how many, the first ones listed, and whether there are more
    than a report may have. Counting stops at the first line over the limit."""

    def __init__(self, limit: int, listed: int) -> None:
        self.limit, self.listed = limit, listed
        self.bad = 0
        self.errors: list[dict[str, Any]] = []

    @property
    def over(self) -> bool:
        return self.bad > self.limit

    def add(self, rows: list[Any], *, before: int | None = None, after: int | None = None) -> None:
        """Count the bad lines among `rows` (only those before or after a line number)."""
        for row in rows:
            if self.over:
                return
            if not isinstance(row, parsers.BadLine):
                continue
            if (before is not None and row.line_number > before) or (
                after is not None and row.line_number < after
            ):
                continue
            self.bad += 1
            if len(self.errors) < self.listed:
                self.errors.append({"line": row.line_number, "reason": row.reason})

    def rejected_before_first_good(self) -> ReportRejected:
        return ReportRejected(
            f"More than {self.limit} bad lines before the first valid one; the report was "
            "rejected whole.",
            self.errors,
            self.bad,
            self.bad,
        )


def _finish(report: SalesReport, status: str, **fields: Any) -> SalesReport | None:
    """Move an importing report to its outcome (guarded), with its event."""
    fields.setdefault("updated_at", timezone.now())
    with transaction.atomic():
        moved = SalesReport.objects.filter(pk=report.pk, status=ReportStatus.IMPORTING).update(
            status=status, **fields
        )
        if not moved:
            return None
        report.refresh_from_db()
        _publish(report, previous=ReportStatus.IMPORTING)
    return report


def sales_report_import(
    *, report_id: uuid.UUID | str, progress: ProgressCallback | None = None
) -> SalesReport | None:
    """Import an uploaded report: all of its lines in one transaction, or none.

    A rerun after the report has been imported, rejected or failed does nothing; a rerun of
    an interrupted import (its transaction rolled back) imports it again.
    """
    with transaction.atomic():
        report = (
            SalesReport.objects.select_for_update()
            .filter(pk=report_id, status__in=[ReportStatus.UPLOADED, ReportStatus.IMPORTING])
            .first()
        )
        if report is None:
            return None
        if report.status == ReportStatus.UPLOADED:
            report.status = ReportStatus.IMPORTING
            report.save(update_fields=["status", "updated_at"])
            _publish(report, previous=ReportStatus.UPLOADED)

    report_id = report.pk

    def tracked(lines: int) -> None:
        cache.set(progress_key(report_id), lines, 3600)
        if progress is not None:
            progress(lines)

    try:
        with transaction.atomic():
            # The row lock makes a concurrent rerun wait, then find the report imported.
            locked = (
                SalesReport.objects.select_for_update()
                .filter(pk=report.pk, status=ReportStatus.IMPORTING)
                .first()
            )
            if locked is None:
                return None
            total, loaded, matched = _load(locked, tracked)
            SalesReport.objects.filter(pk=report.pk).update(
                status=ReportStatus.IMPORTED,
                period=locked.period,
                accounting_period=locked.accounting_period,
                lines_total=total,
                lines_loaded=loaded,
                lines_bad=total - loaded,
                lines_matched=matched,
                errors=locked.errors,
                error="",
                imported_at=timezone.now(),
                updated_at=timezone.now(),
            )
            locked.refresh_from_db()
            _publish(locked, previous=ReportStatus.IMPORTING)
            report = locked
    except ReportRejected as exc:
        metrics.royalties_lines_imported(layout=report.layout, outcome="rejected", count=exc.total)
        return _finish(
            report,
            ReportStatus.REJECTED,
            error=exc.message,
            errors=exc.errors,
            lines_total=exc.total,
            lines_bad=exc.bad,
            lines_loaded=0,
            lines_matched=0,
        )
    except Exception as exc:
        logger.exception("sales_report_import_failed", report_id=str(report.pk))
        return _finish(report, ReportStatus.FAILED, error=f"{type(exc).__name__}: {exc}"[:2000])
    finally:
        cache.delete(progress_key(report_id))
    return report


def report_product_match(
    *,
    product: ReportProduct,
    track: Track | None = None,
    release: Release | None = None,
    actor: User | None = None,
) -> ReportProduct:
    """Match an unmatched product of a report by hand to a track (and its release) or a
    release. From then on all of its lines count; if its period has closed, they count in
    the next open one."""
    if (track is None) == (release is None):
        raise ValidationFailed(
            "Give either a track or a release.", details={"track": ["Track or release."]}
        )
    target_org = (track or release).organization_id  # type: ignore[union-attr]
    if target_org != product.organization_id:
        raise ValidationFailed("No such track or release.", details={"track": ["Not found."]})
    with transaction.atomic():
        locked = (
            ReportProduct.objects.select_for_update(of=("self",))
            .select_related("period")
            .get(pk=product.pk)
        )
        if locked.release_id is not None:
            raise InvalidTransition(
                "This product is already matched.",
                details={"track": str(locked.track_id), "release": str(locked.release_id)},
            )
        locked.track = track
        locked.release = track.release if track is not None else release
        locked.matched_by_hand = True
        # Its lines join the period now: locked, so that it cannot close meanwhile.
        locked.period = accounting_period_for(
            organization=locked.organization, month=locked.period.month, lock=True
        )
        locked.save(update_fields=["track", "release", "matched_by_hand", "period"])
        SalesReport.objects.filter(pk=locked.report_id).update(
            lines_matched=F("lines_matched") + locked.lines, updated_at=timezone.now()
        )
        publish(
            organization_id=locked.organization_id,
            type="sales_product.matched",
            # Products have bigint ids; the event's subject is the report.
            subject_type="sales_report",
            subject_id=locked.report_id,
            release_id=locked.release_id,
            actor_id=actor.pk if actor else None,
            data={
                "product_id": locked.pk,
                "isrc": locked.isrc,
                "upc": locked.upc,
                "lines": locked.lines,
                "track_id": str(locked.track_id) if locked.track_id else None,
                "release_id": str(locked.release_id),
            },
        )
    return locked
