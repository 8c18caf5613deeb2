"""Bulk-load a report's checked lines, matched to the catalog, inside the caller's transaction.

Matching happens while loading, once per product: the organization's ISRC -> (track,
release) and UPC -> release maps are read once (one query each), and each distinct
(ISRC, UPC) pair of the report becomes a `ReportProduct` row holding the match, the
organization and the accounting period. Lines carry only their product's id, so a line is
written once, already matched, and narrow.

PostgreSQL: one `COPY ... FROM STDIN` per report, fed a chunk at a time (the COPY text of
column-checked lines is joined a column at a time, or written by polars for its frames;
lines checked one by one are formatted one by one).
SQLite (the embedded profile): batched `bulk_create`; same outcome.
"""

from __future__ import annotations

import datetime as dt
import io
import operator
import queue
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Protocol, cast

from django.db import connection
from psycopg.copy import QueuedLibpqWriter

from distribution.models import Release, Track
from royalties.models import ReportProduct, SalesLine, SalesLineBlock, SalesReport
from royalties.parsers import SaleRow
from royalties.parsers.chunks import CheckedLines, Chunk
from royalties.parsers.table import FIELDS

if TYPE_CHECKING:
    import polars as pl

# The checked fields written after the store, in COPY order. No line number: a line's is
# its id's low bits (`SalesLine.line_number`).
COPY_FIELDS = ("sale_month", "territory", "usage_type", "quantity", "gross", "net", "currency")
COPY_COLUMNS = ("id", "product_id", "store", *COPY_FIELDS)
BULK_BATCH = 2000
PRODUCT_ROWS_PER_WRITE = 2000
Match = tuple[uuid.UUID | None, uuid.UUID | None]
NO_MATCH: Match = (None, None)
Pair = tuple[str, str]
NULL = "\\N"


def upc_forms(upc: str) -> tuple[str, ...]:
    """A 12-digit UPC-A is the 13-digit EAN with a leading zero: stores report either."""
    if len(upc) == 12:
        return (upc, f"0{upc}")
    if len(upc) == 13 and upc.startswith("0"):
        return (upc, upc[1:])
    return (upc,)


@dataclass
class CatalogIndex:
    """The organization's ISRC and UPC lookups."""

    by_isrc: dict[str, Match]
    by_upc: dict[str, Match]

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

    def match(self, isrc: str, upc: str) -> Match:
        return (isrc and self.by_isrc.get(isrc)) or (upc and self.by_upc.get(upc)) or NO_MATCH


class ProductRegistry:
    """A report's products by (ISRC, UPC), matched the first time a line names them, and
    how many lines name each. Their ids come from the report's block, so lines can name them
    while the COPY is still open; the rows are written when the lines are done."""

    def __init__(self, report: SalesReport) -> None:
        """Call inside the report's import transaction: it takes the report's id block."""
        self._report = report
        self.block = SalesLineBlock.objects.create(report=report)
        self._first_id = self.block.first_id
        self._index = CatalogIndex.load(report.organization_id)
        self.period_id: uuid.UUID | None = None  # set once the first valid line is read
        self.ids: dict[Pair, int] = {}
        self._matches: dict[int, Match] = {}
        # Lines per product id, given as an int or as its text (the column reader's lines
        # carry it as text: their hashes are cached, the same str objects repeat).
        self._counted: Counter[int | str] = Counter()
        self._lines: Counter[int] = Counter()  # per product id, once the report is read
        self._counts: list[pl.DataFrame] = []  # of polars frames: (product_id, len)

    def identify(self, isrc: str, upc: str) -> int:
        """The product id of a checked (ISRC, UPC) pair."""
        product_id = self.ids.get((isrc, upc))
        if product_id is None:
            product_id = self.ids[(isrc, upc)] = self._first_id + len(self.ids) + 1
            self._matches[product_id] = self._index.match(isrc, upc)
        return product_id

    def count(self, product_ids: Iterable[int | str]) -> None:
        """One more line for each product id (a C loop: it runs for every line)."""
        self._counted.update(product_ids)

    def count_frame(self, counts: pl.DataFrame) -> None:
        """Lines per product of a polars chunk (product_id, len), summed when the report is
        done."""
        self._counts.append(counts)
        if len(self._counts) >= 32:
            self._counts = [_sum_counts(self._counts)]

    def finish(self) -> int:
        """Write the products; returns how many lines matched."""
        for product_id, lines in self._counted.items():
            self._lines[int(product_id)] += lines
        if self._counts:
            self._lines.update(dict(_sum_counts(self._counts).iter_rows()))
        if connection.vendor == "postgresql":
            self._copy_products()
        else:
            ReportProduct.objects.bulk_create(self._products(), batch_size=BULK_BATCH)
        return sum(
            lines
            for product_id, lines in self._lines.items()
            if self._matches[product_id][1] is not None
        )

    def _named(self) -> Iterator[tuple[str, str, int, int]]:
        """(ISRC, UPC, id, lines) of each product some line names. A reader may identify a
        pair before finding its line bad (polars checks pairs a chunk at a time): no row
        for those."""
        lines = self._lines
        for (isrc, upc), product_id in self.ids.items():
            if lines[product_id]:
                yield isrc, upc, product_id, lines[product_id]

    def _products(self) -> Iterator[ReportProduct]:
        assert self.period_id is not None
        for isrc, upc, product_id, lines in self._named():
            track_id, release_id = self._matches[product_id]
            yield ReportProduct(
                id=product_id,
                report=self._report,
                organization_id=self._report.organization_id,
                period_id=self.period_id,
                isrc=isrc,
                upc=upc,
                track_id=track_id,
                release_id=release_id,
                lines=lines,
            )

    def _copy_products(self) -> None:
        """COPY, not bulk_create: a report with tens of thousands of unknown ISRCs has as
        many products, and building a model instance each cost seconds."""
        fixed = f"{self._report.pk}\t{self._report.organization_id}\t{self.period_id}"
        columns = ("id", "report_id", "organization_id", "period_id", "isrc", "upc",
                   "track_id", "release_id", "matched_by_hand", "lines")  # fmt: skip
        sql = f"COPY {ReportProduct._meta.db_table} ({', '.join(columns)}) FROM STDIN"
        match_texts: dict[Match, str] = {}  # a few thousand distinct matches at most
        rows: list[str] = []
        with connection.cursor() as cursor, cursor.cursor.copy(sql) as copy:
            for isrc, upc, product_id, lines in self._named():
                match = self._matches[product_id]
                text = match_texts.get(match)
                if text is None:
                    text = match_texts[match] = f"{_id_text(match[0])}\t{_id_text(match[1])}"
                rows.append(f"{product_id}\t{fixed}\t{isrc}\t{upc}\t{text}\tf\t{lines}\n")
                if len(rows) == PRODUCT_ROWS_PER_WRITE:
                    # Sent in parts: PostgreSQL stores these while the next are formatted.
                    copy.write("".join(rows))
                    rows.clear()
            copy.write("".join(rows))


def _sum_counts(counts: list[pl.DataFrame]) -> pl.DataFrame:
    import polars as pl

    return pl.concat(counts).group_by("product_id").agg(pl.col("len").sum())


def _id_text(value: uuid.UUID | None) -> str:
    return NULL if value is None else str(value)


class LineSink(Protocol):
    matched: int  # lines that matched, once the sink's context has closed

    def write_chunk(self, chunk: Chunk) -> None: ...


_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


class _Sink:
    """What both sinks share: the block of line ids and the products."""

    def __init__(self, registry: ProductRegistry) -> None:
        self._first_id = registry.block.first_id
        self._registry = registry
        self.matched = 0

    def _frame_lines(self, frame: pl.DataFrame, *columns: Any) -> pl.DataFrame:
        """A polars frame's lines with their ids, as `columns`; their count per product
        noted."""
        import polars as pl  # only the polars reader makes frames

        lines = frame.lazy().with_columns(
            (pl.lit(self._first_id, dtype=pl.Int64) + pl.col("line_number")).alias("id")
        )
        selected, counts = pl.collect_all(
            [lines.select(*columns), lines.group_by("product_id").len()]
        )
        self._registry.count_frame(counts)
        return selected

    def _rows_with_products(self, rows: list[Any]) -> list[tuple[SaleRow, int]]:
        identify, out = self._registry.identify, []
        for row in rows:
            if isinstance(row, SaleRow):
                out.append((row, identify(row.isrc, row.upc)))
        self._registry.count(product_id for _row, product_id in out)
        return out

    def finish_products(self) -> None:
        self.matched = self._registry.finish()


class _CopySink(_Sink):
    def __init__(self, copy: Any, registry: ProductRegistry) -> None:
        super().__init__(registry)
        self._copy = copy

    def write_chunk(self, chunk: Chunk) -> None:
        if chunk.lines:
            self._copy.write(self._lines_text(chunk.lines))
        if chunk.frame is not None:
            self._copy.write(self._frame_text(chunk.frame))
        if chunk.rows:
            self._copy.write(self._rows_text(chunk.rows))

    def _lines_text(self, lines: CheckedLines) -> str:
        """COPY text of column-checked lines, joined a column at a time (the loops run in
        C). Only the store can hold a character COPY text escapes: the other fields are
        codes, dates and plain numbers."""
        self._registry.count(lines.product_ids)
        fields, numbers = lines.fields, lines.numbers
        ids = (
            _consecutive_texts(self._first_id + numbers[0], len(numbers))
            if isinstance(numbers, range)
            else map(str, map(self._first_id.__add__, numbers))
        )
        stores = fields["store"]
        if _needs_escape("".join(stores)):  # one pass, not a hash per line
            stores = [store.translate(_ESCAPES) for store in stores]
        rows = zip(ids, lines.product_ids, stores,
                   *(fields[name] for name in COPY_FIELDS), strict=True)  # fmt: skip
        return "\n".join(map("\t".join, rows)) + "\n"

    def _frame_text(self, frame: pl.DataFrame) -> memoryview:
        """COPY text of a polars frame's lines, written by polars."""
        import polars as pl  # only the polars reader makes frames

        store = pl.col("store")
        if frame.get_column("store").str.contains(r"[\\\t]").any():
            # COPY text escapes; a checked line has no line break in it.
            store = store.str.replace_all("\\", "\\\\", literal=True).str.replace_all(
                "\t", "\\t", literal=True
            )
        lines = self._frame_lines(frame, "id", "product_id", store, *COPY_FIELDS)
        buffer = io.BytesIO()
        lines.write_csv(
            buffer, separator="\t", include_header=False, quote_style="never", null_value=NULL
        )
        return buffer.getbuffer()

    def _rows_text(self, rows: list[Any]) -> str:
        """COPY text of the lines read one by one. One loop with its lookups cached: it runs
        per line for every layout the column reader does not read."""
        ids, identify = self._registry.ids, self._registry.identify
        product_ids: list[int] = []
        texts: dict[Any, str] = {}  # store and month repeat: their text once
        first_id, out = self._first_id, []
        for row in rows:
            if type(row) is not SaleRow:
                continue  # a bad line
            product_id = ids.get((row.isrc, row.upc)) or identify(row.isrc, row.upc)
            product_ids.append(product_id)
            store = texts.get(row.store)
            if store is None:
                store = texts[row.store] = row.store.translate(_ESCAPES)
            month = texts.get(row.sale_month)
            if month is None:
                month = texts[row.sale_month] = row.sale_month.isoformat()
            number = row.line_number
            out.append(
                f"{first_id + number}\t{product_id}\t{store}\t{month}\t"
                f"{row.territory}\t{row.usage_type}\t{row.quantity}\t{row.gross}\t{row.net}\t"
                f"{row.currency}\n"
            )
        self._registry.count(product_ids)
        return "".join(out)


_LAST_DIGITS = [f"{number:03d}" for number in range(1000)]
# operator.concat: half the time of str.__add__ through map.
_concat = cast(Callable[[str, str], str], operator.concat)


def _consecutive_texts(start: int, count: int) -> list[str]:
    """The decimal texts of `count` numbers from `start` on: a thousand consecutive numbers
    share all but their last three digits, so each line's id is a prefix and an entry of a
    table, not a conversion of a 12-digit number (this runs for every line)."""
    texts: list[str] = []
    end = start + count
    while start < end:
        head, low = divmod(start, 1000)
        size = min(end - start, 1000 - low)
        if head:
            texts += map(_concat, [str(head)] * size, _LAST_DIGITS[low : low + size])
        else:  # no leading zeros
            texts += map(str, range(start, start + size))
        start += size
    return texts


def _needs_escape(text: str) -> bool:
    return "\\" in text or "\t" in text or "\n" in text or "\r" in text


def _typed(line: dict[str, Any]) -> dict[str, Any]:
    """A checked line's text fields as the model's values."""
    return line | {
        "sale_month": dt.date.fromisoformat(line["sale_month"]),
        "product_id": int(line["product_id"]),
        "quantity": int(line["quantity"]),
        "gross": Decimal(line["gross"]),
        "net": Decimal(line["net"]),
    }


class _BulkSink(_Sink):
    def write_chunk(self, chunk: Chunk) -> None:
        batch: list[SalesLine] = []
        if chunk.frame is not None:
            for line in self._frame_lines(chunk.frame, *COPY_COLUMNS).iter_rows(named=True):
                batch.append(SalesLine(**_typed(line)))
        if chunk.lines:
            lines, names = chunk.lines, ("product_id", *FIELDS)
            self._registry.count(lines.product_ids)
            columns = zip(lines.product_ids, *(lines.fields[name] for name in FIELDS), strict=True)
            for number, values in zip(lines.numbers, columns, strict=True):
                line = dict(zip(names, values, strict=True))
                batch.append(SalesLine(id=self._first_id + number, **_typed(line)))
        for row, product_id in self._rows_with_products(chunk.rows):
            batch.append(
                SalesLine(
                    id=self._first_id + row.line_number,
                    product_id=product_id,
                    store=row.store,
                    sale_month=row.sale_month,
                    territory=row.territory,
                    usage_type=row.usage_type,
                    quantity=row.quantity,
                    gross=row.gross,
                    net=row.net,
                    currency=row.currency,
                )
            )
        SalesLine.objects.bulk_create(batch, batch_size=BULK_BATCH)


class _BoundedQueuedWriter(QueuedLibpqWriter):
    """psycopg's queued writer holds up to 1,024 buffers: when PostgreSQL is the slower
    side, most of a report would wait in memory. A short queue keeps the import's memory
    flat and still lets the next chunk be checked while this one is sent."""

    QUEUE_BUFFERS = 32  # of up to 128 kB each

    def __init__(self, cursor: Any) -> None:
        super().__init__(cursor)
        self._queue = queue.Queue(maxsize=self.QUEUE_BUFFERS)  # type: ignore[assignment]


@contextmanager
def line_sink(registry: ProductRegistry, *, threaded: bool = False) -> Iterator[LineSink]:
    """A writer of one report's matched sales lines; call inside the report's transaction,
    once the registry's period is known. When the context closes, the products are written
    and `sink.matched` is set. `threaded`: send the COPY from a writer thread, for the polars
    reader (whose work runs outside the GIL); the readers that check in Python hold the GIL,
    and the thread only slowed them."""
    if connection.vendor == "postgresql":
        table = SalesLine._meta.db_table
        sql = f"COPY {table} ({', '.join(COPY_COLUMNS)}) FROM STDIN"
        with connection.cursor() as cursor:
            raw = cursor.cursor  # the psycopg cursor, on the same connection and transaction
            # A writer thread sends the COPY data, so the next chunk is checked while
            # PostgreSQL stores this one (two cores busy instead of taking turns).
            writer = _BoundedQueuedWriter(raw) if threaded else None
            with raw.copy(sql, writer=writer) as copy:
                sink = _CopySink(copy, registry)
                yield sink
        # The products are written once the COPY is closed (the connection is busy until then).
        sink.finish_products()
        return
    bulk = _BulkSink(registry)
    yield bulk
    bulk.finish_products()
