"""A report read as chunks of lines, for the loader: `read_chunks` picks the reader.

Table layouts are checked a column at a time, by one of two readers that give exactly what
the line-by-line parser gives (the same lines, values and errors):

- `columns` (the default, `royalties.parsers.columns`): plain Python string operations
  that loop in C. 0.5x to 0.65x a raw COPY of the file, four times line by line's speed,
  with no more memory than line by line.
- `polars` (`royalties.parsers.frames`, imported only then): polars' CSV reader and
  expressions; about as fast (faster when other work shares the cores), for about 140 MB
  more at an import's peak (polars' library, code pages and working set).

`lines` (and every layout that is not a plain table: DDEX DSR, the download store's)
parses line by line. `ROYALTIES_IMPORT_READER` chooses; figures in bench/README.md.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING, Any, NamedTuple

from royalties.parsers import base
from royalties.parsers.table import TableLayout

if TYPE_CHECKING:
    import polars as pl

READERS = ("columns", "polars", "lines")
ROW_CHUNK_LINES = 10_000
# The loader's id for a checked (isrc, upc): checked lines carry it, not the pair.
Identify = Callable[[str, str], int]


@dataclass
class CheckedLines:
    """Lines checked a column at a time, as columns: their line numbers, their products'
    ids, and per field of `table.FIELDS` the checked text (a month as an ISO date, an amount
    with a decimal point), the same values the row path's `SaleRow` would hold."""

    numbers: Sequence[int]
    product_ids: Sequence[str]  # as text: the COPY writes them as they are
    fields: dict[str, Sequence[str]]

    def __len__(self) -> int:
        return len(self.numbers)


class Chunk(NamedTuple):
    """Consecutive lines of a report: those read line by line (`rows`, valid or bad, in
    order), and those checked a column at a time, by the `columns` reader (`lines`) or by
    polars (`frame`, see `frames.FRAME_COLUMNS`)."""

    rows: list[base.SaleRow | base.BadLine]
    lines: CheckedLines | None = None
    frame: pl.DataFrame | None = None

    @property
    def good(self) -> int:
        rows = sum(1 for row in self.rows if isinstance(row, base.SaleRow))
        lines = len(self.lines) if self.lines is not None else 0
        return rows + lines + (self.frame.height if self.frame is not None else 0)

    def first_good(self) -> tuple[int, Any] | None:
        """(line number, sale month) of the chunk's first valid line."""
        found: list[tuple[int, Any]] = []
        if self.lines:
            month = self.lines.fields["sale_month"][0]
            found.append((self.lines.numbers[0], dt.date.fromisoformat(month)))
        if self.frame is not None and self.frame.height:
            month = self.frame.item(0, "sale_month")
            found.append((self.frame.item(0, "line_number"), dt.date.fromisoformat(month)))
        found.extend(
            (row.line_number, row.sale_month) for row in self.rows if isinstance(row, base.SaleRow)
        )
        return min(found, key=lambda pair: pair[0]) if found else None


def table_reader(layout: Any, reader: str) -> str:
    """Which reader `read_chunks` uses for this layout: `reader` for a table layout, line by
    line for the others."""
    if reader not in READERS:
        raise ValueError(f"Unknown reader '{reader}': one of {', '.join(READERS)}.")
    return reader if isinstance(layout, TableLayout) else "lines"


def read_chunks(
    layout: Any,
    raw: IO[bytes],
    context: base.ParseContext,
    identify: Identify,
    *,
    reader: str,
) -> Iterator[Chunk]:
    """The report's lines, a chunk at a time. Raises `ReportMalformed` for a file that cannot
    be read in the layout, `UnicodeDecodeError` for one that is not UTF-8."""
    chosen = table_reader(layout, reader)
    if chosen == "columns":
        from royalties.parsers.columns import ColumnReader

        yield from ColumnReader(layout, raw, context, identify).chunks()
    elif chosen == "polars":
        from royalties.parsers.frames import FrameReader

        yield from FrameReader(layout, raw, context, identify).chunks()
    else:
        stream = io.TextIOWrapper(raw, encoding="utf-8-sig", errors="strict", newline="")
        yield from row_chunks(layout.parse(stream, context))


def row_chunks(rows: Iterator[base.SaleRow | base.BadLine]) -> Iterator[Chunk]:
    batch: list[base.SaleRow | base.BadLine] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= ROW_CHUNK_LINES:
            yield Chunk(batch)
            batch = []
    if batch:
        yield Chunk(batch)
