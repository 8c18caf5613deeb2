"""Bulk-load parsed sales lines and match them to the catalog, inside the caller's transaction.

PostgreSQL: one `COPY ... FROM STDIN` (psycopg 3, `write_row`) per report, and matching as
two set-based `UPDATE ... FROM` joins on the organization's ISRC and UPC indexes. SQLite (the
embedded profile): batched `bulk_create` and correlated-subquery updates; same outcome.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Protocol

from django.db import connection
from django.db.models import OuterRef, Subquery

from distribution.models import Release, Track
from royalties.models import SalesLine
from royalties.parsers import SaleRow

COPY_COLUMNS = (
    "report_id", "organization_id", "period_id", "line_number", "store", "sale_month",
    "territory", "isrc", "upc", "usage_type", "quantity", "gross", "net", "currency",
    "matched_by_hand",
)  # fmt: skip
BULK_BATCH = 2000


class LineSink(Protocol):
    def write(self, row: SaleRow) -> None: ...


class _CopySink:
    def __init__(self, copy: Any, report_id: uuid.UUID, organization_id: uuid.UUID,
                 period_id: uuid.UUID) -> None:  # fmt: skip
        self._write_row = copy.write_row
        self._fixed = (report_id, organization_id, period_id)

    def write(self, row: SaleRow) -> None:
        report_id, organization_id, period_id = self._fixed
        self._write_row(
            (report_id, organization_id, period_id, row.line_number, row.store, row.sale_month,
             row.territory, row.isrc, row.upc, row.usage_type, row.quantity, row.gross, row.net,
             row.currency, False)
        )  # fmt: skip


class _BulkSink:
    def __init__(self, report_id: uuid.UUID, organization_id: uuid.UUID,
                 period_id: uuid.UUID) -> None:  # fmt: skip
        self._fixed = {
            "report_id": report_id,
            "organization_id": organization_id,
            "period_id": period_id,
        }
        self._batch: list[SalesLine] = []

    def write(self, row: SaleRow) -> None:
        self._batch.append(
            SalesLine(
                **self._fixed,
                line_number=row.line_number,
                store=row.store,
                sale_month=row.sale_month,
                territory=row.territory,
                isrc=row.isrc,
                upc=row.upc,
                usage_type=row.usage_type,
                quantity=row.quantity,
                gross=row.gross,
                net=row.net,
                currency=row.currency,
            )
        )
        if len(self._batch) >= BULK_BATCH:
            self.flush()

    def flush(self) -> None:
        if self._batch:
            SalesLine.objects.bulk_create(self._batch)
            self._batch = []


@contextmanager
def line_sink(
    *, report_id: uuid.UUID, organization_id: uuid.UUID, period_id: uuid.UUID
) -> Iterator[LineSink]:
    """A writer of sales lines for one report; call inside the report's transaction."""
    if connection.vendor == "postgresql":
        table = SalesLine._meta.db_table
        sql = f"COPY {table} ({', '.join(COPY_COLUMNS)}) FROM STDIN"
        with connection.cursor() as cursor:
            raw = cursor.cursor  # the psycopg cursor, on the same connection and transaction
            with raw.copy(sql) as copy:
                yield _CopySink(copy, report_id, organization_id, period_id)
        return
    sink = _BulkSink(report_id, organization_id, period_id)
    yield sink
    sink.flush()


def lines_match(*, report_id: uuid.UUID, organization_id: uuid.UUID) -> int:
    """Match the report's lines to tracks by ISRC, then the rest to releases by UPC, within
    the organization. Returns how many lines matched."""
    lines = SalesLine._meta.db_table
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {lines} AS l SET track_id = t.id, release_id = t.release_id "  # noqa: S608
                f"FROM {Track._meta.db_table} AS t "
                "WHERE l.report_id = %s AND l.isrc <> '' AND t.organization_id = %s "
                "AND t.isrc = l.isrc",
                [report_id, organization_id],
            )
            cursor.execute(
                f"UPDATE {lines} AS l SET release_id = r.id "  # noqa: S608
                f"FROM {Release._meta.db_table} AS r "
                "WHERE l.report_id = %s AND l.release_id IS NULL AND l.upc <> '' "
                "AND r.organization_id = %s AND r.upc = l.upc",
                [report_id, organization_id],
            )
    else:
        report_lines = SalesLine.objects.filter(report_id=report_id)
        track = Track.objects.filter(organization_id=organization_id, isrc=OuterRef("isrc"))
        report_lines.exclude(isrc="").filter(
            isrc__in=Track.objects.filter(organization_id=organization_id).values("isrc")
        ).update(
            track_id=Subquery(track.values("id")[:1]),
            release_id=Subquery(track.values("release_id")[:1]),
        )
        release = Release.objects.filter(organization_id=organization_id, upc=OuterRef("upc"))
        report_lines.filter(release_id__isnull=True).exclude(upc="").filter(
            upc__in=Release.objects.filter(organization_id=organization_id).values("upc")
        ).update(release_id=Subquery(release.values("id")[:1]))
    return SalesLine.objects.filter(report_id=report_id, release_id__isnull=False).count()
