"""Bulk-load parsed sales lines, matched to the catalog, inside the caller's transaction.

Matching happens while loading: the organization's ISRC -> (track, release) and UPC -> release
maps are read once (one query each, a few MB even for 100,000 tracks) and each line is looked
up in them, so lines are written once, already matched. (An `UPDATE ... FROM` join after the
load rewrote every matched row a second time and was the slowest step of an import.)

PostgreSQL: one `COPY ... FROM STDIN` (psycopg 3, `write_row`) per report. SQLite (the
embedded profile): batched `bulk_create`; same outcome.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Protocol

from django.db import connection

from distribution.models import Release, Track
from royalties.models import SalesLine
from royalties.parsers import SaleRow

COPY_COLUMNS = (
    "report_id", "organization_id", "period_id", "line_number", "store", "sale_month",
    "territory", "isrc", "upc", "usage_type", "quantity", "gross", "net", "currency",
    "track_id", "release_id", "matched_by_hand",
)  # fmt: skip
BULK_BATCH = 2000
Match = tuple[uuid.UUID | None, uuid.UUID | None]
NO_MATCH: Match = (None, None)


def upc_forms(upc: str) -> tuple[str, ...]:
    """A 12-digit UPC-A is the 13-digit EAN with a leading zero: stores report either."""
    if len(upc) == 12:
        return (upc, f"0{upc}")
    if len(upc) == 13 and upc.startswith("0"):
        return (upc, upc[1:])
    return (upc,)


@dataclass
class CatalogIndex:
    """The organization's ISRC and UPC lookups, and how many lines matched."""

    by_isrc: dict[str, Match]
    by_upc: dict[str, Match]
    matched: int = 0
    _misses: dict[str, int] = field(default_factory=dict)

    @classmethod
    def load(cls, organization_id: uuid.UUID) -> CatalogIndex:
        by_isrc: dict[str, Match] = {
            isrc: (track_id, release_id)
            for isrc, track_id, release_id in Track.objects.filter(organization_id=organization_id)
            .exclude(isrc="")
            .values_list("isrc", "id", "release_id")
        }
        by_upc: dict[str, Match] = {}
        for upc, release_id in (
            Release.objects.filter(organization_id=organization_id)
            .exclude(upc="")
            .values_list("upc", "id")
        ):
            for form in upc_forms(upc):
                by_upc.setdefault(form, (None, release_id))
        return cls(by_isrc=by_isrc, by_upc=by_upc)

    def match(self, row: SaleRow) -> Match:
        found = (row.isrc and self.by_isrc.get(row.isrc)) or (row.upc and self.by_upc.get(row.upc))
        if found:
            self.matched += 1
            return found
        return NO_MATCH


class LineSink(Protocol):
    index: CatalogIndex

    def write(self, row: SaleRow) -> None: ...


NULL = "\\N"
_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
COPY_BATCH = 2000


class _CopySink:
    """Writes COPY's text format itself, a batch of lines per call: psycopg's `write_row`
    adapts every value (five UUIDs, a date, two decimals) per row, which cost more than
    parsing. Only `store` can hold text that needs escaping; the other fields are validated
    codes, numbers and dates."""

    def __init__(self, copy: Any, index: CatalogIndex, fixed: tuple[uuid.UUID, ...]) -> None:
        self._copy = copy
        self.index = index
        self._prefix = "\t".join(str(value) for value in fixed) + "\t"
        self._texts: dict[Any, str] = {}
        self._ids = {
            isrc: f"{track}\t{release}" for isrc, (track, release) in index.by_isrc.items()
        }
        self._upc_ids = {upc: f"{NULL}\t{release}" for upc, (_, release) in index.by_upc.items()}
        self._no_ids = f"{NULL}\t{NULL}"
        self._batch: list[str] = []

    def _text(self, value: Any) -> str:
        text = self._texts.get(value)
        if text is None:
            text = self._texts[value] = str(value).translate(_ESCAPES)
        return text

    def write(self, row: SaleRow) -> None:
        # Inlined CatalogIndex.match and the text cache: this runs once per line.
        ids = self._ids.get(row.isrc) if row.isrc else None
        if ids is None and row.upc:
            ids = self._upc_ids.get(row.upc)
        if ids is None:
            ids = self._no_ids
        else:
            self.index.matched += 1
        texts = self._texts
        store = texts.get(row.store) or self._text(row.store)
        month = texts.get(row.sale_month) or self._text(row.sale_month)
        self._batch.append(
            f"{self._prefix}{row.line_number}\t{store}\t{month}\t{row.territory}\t{row.isrc}\t"
            f"{row.upc}\t{row.usage_type}\t{row.quantity}\t{row.gross}\t{row.net}\t"
            f"{row.currency}\t{ids}\tf\n"
        )
        if len(self._batch) >= COPY_BATCH:
            self.flush()

    def flush(self) -> None:
        if self._batch:
            self._copy.write("".join(self._batch))
            self._batch = []


class _BulkSink:
    def __init__(self, index: CatalogIndex, fixed: tuple[uuid.UUID, ...]) -> None:
        self.index = index
        report_id, organization_id, period_id = fixed
        self._fixed = {
            "report_id": report_id,
            "organization_id": organization_id,
            "period_id": period_id,
        }
        self._batch: list[SalesLine] = []

    def write(self, row: SaleRow) -> None:
        track_id, release_id = self.index.match(row)
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
                track_id=track_id,
                release_id=release_id,
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
    """A writer of matched sales lines for one report; call inside the report's transaction.
    `sink.index.matched` counts the lines that matched."""
    index = CatalogIndex.load(organization_id)
    fixed = (report_id, organization_id, period_id)
    if connection.vendor == "postgresql":
        table = SalesLine._meta.db_table
        sql = f"COPY {table} ({', '.join(COPY_COLUMNS)}) FROM STDIN"
        with connection.cursor() as cursor:
            raw = cursor.cursor  # the psycopg cursor, on the same connection and transaction
            with raw.copy(sql) as copy:
                sink = _CopySink(copy, index, fixed)
                yield sink
                sink.flush()
        return
    bulk = _BulkSink(index, fixed)
    yield bulk
    bulk.flush()
