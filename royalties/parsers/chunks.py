"""A report read as chunks of lines, for the loader: `read_chunks` picks the reader.

Table layouts are checked a column at a time with polars (`royalties.parsers.columnar`,
imported only then: polars costs a process about 40 MB); with
`ROYALTIES_IMPORT_COLUMNAR` off, and for the other layouts, lines are parsed one by one.
Both give the same lines, values and errors; the columnar reader is about four times
faster and uses about 140 MB more memory (bench/README.md).
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from typing import IO, TYPE_CHECKING, Any, NamedTuple

from royalties.parsers import base
from royalties.parsers.table import TableLayout

if TYPE_CHECKING:
    import polars as pl

ROW_CHUNK_LINES = 10_000
# The loader's id for a checked (isrc, upc): a columnar chunk's frame carries it, not the pair.
Identify = Callable[[str, str], int]


class Chunk(NamedTuple):
    """Consecutive lines of a report: those checked as columns (`frame`, see
    `columnar.FRAME_COLUMNS`) and those read line by line (`rows`, valid or bad, in order)."""

    frame: pl.DataFrame | None
    rows: list[base.SaleRow | base.BadLine]

    @property
    def good(self) -> int:
        rows = sum(1 for row in self.rows if isinstance(row, base.SaleRow))
        return rows + (self.frame.height if self.frame is not None else 0)

    def first_good(self) -> tuple[int, Any] | None:
        """(line number, sale month) of the chunk's first valid line."""
        found: list[tuple[int, Any]] = []
        if self.frame is not None and self.frame.height:
            number, month = self.frame.row(0)[0], self.frame.item(0, "sale_month")
            found.append((number, base.month(month, ("%Y-%m-%d",))))
        found.extend(
            (row.line_number, row.sale_month) for row in self.rows if isinstance(row, base.SaleRow)
        )
        return min(found, key=lambda pair: pair[0]) if found else None


def reads_columns(layout: Any, columnar: bool) -> bool:
    """Whether `read_chunks` checks this layout a column at a time."""
    return columnar and isinstance(layout, TableLayout)


def read_chunks(
    layout: Any,
    raw: IO[bytes],
    context: base.ParseContext,
    identify: Identify,
    *,
    columnar: bool = True,
) -> Iterator[Chunk]:
    """The report's lines, a chunk at a time. Raises `ReportMalformed` for a file that cannot
    be read in the layout, `UnicodeDecodeError` for one that is not UTF-8."""
    if reads_columns(layout, columnar):
        from royalties.parsers.columnar import TableReader

        yield from TableReader(layout, raw, context, identify).chunks()
        return
    stream = io.TextIOWrapper(raw, encoding="utf-8-sig", errors="strict", newline="")
    yield from row_chunks(layout.parse(stream, context))


def row_chunks(rows: Iterator[base.SaleRow | base.BadLine]) -> Iterator[Chunk]:
    batch: list[base.SaleRow | base.BadLine] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= ROW_CHUNK_LINES:
            yield Chunk(None, batch)
            batch = []
    if batch:
        yield Chunk(None, batch)
