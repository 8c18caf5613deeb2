"""Read a report in chunks of lines: checked a column at a time (polars) where the layout is
a plain table, line by line otherwise.

A million-line report spent most of its import in Python's per-line checks. For a
`TableLayout`, each 2 MB chunk (some 28,000 lines) is split into cells by polars' CSV reader
and checked as columns:
the low-cardinality cells (store, month, territory, usage type, currency, and the ISRC/UPC
pair) by running the layout's own check once per distinct value, the numbers against a
strict pattern of plain digits. A line that passes everything is taken as checked; any other
line (a bad cell, an amount with an exponent, a wrong number of cells) goes through the row
path (`TablePlan.build`), which gives the same values and the same error messages as a
line-by-line parse. So the two paths cannot disagree: the fast one only accepts what the
slow one would have accepted unchanged.

A chunk that contains the layout's quote character (a quoted cell may hold the delimiter or
a line break) switches the rest of the file to `csv` line by line, keeping the line numbers.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import IO, Any

import polars as pl

from royalties.parsers import base
from royalties.parsers.chunks import Chunk, Identify, row_chunks
from royalties.parsers.table import Amount, Cell, Constant, Quantity, TableLayout, TablePlan

CHUNK_BYTES = 2 * 1024 * 1024
# What a plain cell looks like: the row path's checks give these back unchanged.
_QUANTITY = r"^-?[0-9]{1,18}$"
_AMOUNT = {False: r"^-?[0-9]{1,10}(\.[0-9]{1,10})?$", True: r"^-?[0-9]{1,10}(,[0-9]{1,10})?$"}
# The columns of a chunk's frame of checked lines; all text but the line number.
FRAME_COLUMNS = ("line_number", "product_id", "store", "sale_month", "territory", "usage_type",
                 "quantity", "gross", "net", "currency")  # fmt: skip


@dataclass
class TableReader:
    """Reads one file of a table layout; what it has checked is kept for the next chunks."""

    layout: TableLayout
    raw: IO[bytes]
    context: base.ParseContext
    identify: Identify
    # Checked distinct values, kept across chunks: value -> normalized text, or None if bad.
    _checked: dict[str, dict[str, str | None]] = field(default_factory=dict)
    # (raw ISRC cell, raw UPC cell) -> the product id of the checked pair, or null if bad.
    _pairs: pl.DataFrame | None = None

    def chunks(self) -> Iterator[Chunk]:
        pieces = self._pieces()
        first = next(pieces, None)
        if first is None:
            raise base.ReportMalformed("The file is empty.")
        header_bytes, _, data = first.partition(b"\n")
        header_line = header_bytes.decode("utf-8").removesuffix("\r")
        header = next(self.layout.reader([header_line]), None)
        if header is None or (not data and not header_line.strip()):
            raise base.ReportMalformed("The file is empty.")
        plan = self.layout.plan(header, self.context)
        number = 2  # the first line after the header
        quoting = self.layout.quoting != csv.QUOTE_NONE
        piece: bytes | None = data
        while piece is not None:
            if b"\r" in piece:
                piece = piece.replace(b"\r\n", b"\n")
            if (quoting and b'"' in piece) or b"\r" in piece:
                texts = (more.decode("utf-8") for more in pieces)
                yield from self._rows_from(piece.decode("utf-8"), texts, plan, number)
                return
            if piece:
                chunk, number = self._chunk(piece, plan, number)
                yield chunk
            piece = next(pieces, None)

    def _pieces(self) -> Iterator[bytes]:
        """The file in pieces that end at a line break (the last may not), each checked to
        be UTF-8 (a line break byte is never inside a multi-byte character)."""
        carry = b""
        started = False
        while data := self.raw.read(CHUNK_BYTES):
            data = carry + data
            if not started and len(data) >= len(codecs.BOM_UTF8):
                data, started = data.removeprefix(codecs.BOM_UTF8), True
            cut = data.rfind(b"\n") + 1
            if cut:
                piece, carry = data[:cut], data[cut:]
                piece.decode("utf-8")  # raises UnicodeDecodeError
                yield piece
            else:
                carry = data
        if not started:
            carry = carry.removeprefix(codecs.BOM_UTF8)
        if carry:
            carry.decode("utf-8")
            yield carry

    def _rows_from(
        self, text: str, texts: Iterator[str], plan: TablePlan, number: int
    ) -> Iterator[Chunk]:
        """The rest of the file read by `csv`, line by line, numbering from `number`."""

        def lines() -> Iterator[str]:
            yield from io.StringIO(text, newline="")
            for more in texts:
                yield from io.StringIO(more, newline="")

        reader = self.layout.reader(lines())
        offset = number - 1  # the reader counts from this text's first line
        for chunk in row_chunks(base.table_rows(reader, plan.width, plan.build)):
            yield Chunk(None, [item._replace(line_number=item.line_number + offset)
                               for item in chunk.rows])  # fmt: skip

    def _chunk(self, data: bytes, plan: TablePlan, number: int) -> tuple[Chunk, int]:
        # Few polars calls per chunk: each costs a fixed overhead, which at small chunks
        # weighed more than the work.
        count = data.count(b"\n") + (0 if data.endswith(b"\n") else 1)
        next_number = number + count
        names = [f"c{i}" for i in range(plan.width)]
        try:
            frame: pl.DataFrame | None = pl.read_csv(
                data,
                has_header=False,
                separator=self.layout.delimiter,
                quote_char=None,  # a chunk with quotes is read line by line instead
                schema=dict.fromkeys(names, pl.String),
                truncate_ragged_lines=True,  # more cells than the header: csv ignores them too
                missing_columns="insert",  # a short first line: its cells are missing
                empty_string_is_null=False,  # so a null cell is a missing one
            )
        except pl.exceptions.PolarsError:
            frame = None
        if frame is None or frame.height != count:
            # Read line by line: the frame must have one row per line, empty ones too.
            texts = data.decode("utf-8").split("\n")[:count]
            return Chunk(None, self._line_rows(texts, range(number, next_number), plan)), (
                next_number
            )
        # Blank lines fail the checks below and are skipped on the line-by-line path, as csv
        # skips them.
        cells = frame.with_row_index("line_number", offset=number)
        del frame
        self._check_distinct(cells, plan)
        # A null last cell: the line has fewer cells than the header.
        ok = pl.col(names[-1]).is_not_null()
        columns: dict[str, pl.Expr] = {}
        for name, rule in plan.rules.items():
            columns[name], check = self._column(name, rule)
            if check is not None:
                ok = ok & check
        keys = [f"c{plan.isrc}", f"c{plan.upc}"]
        assert self._pairs is not None
        checked = (
            cells.lazy()
            .join(self._pairs.lazy(), on=keys, how="left", maintain_order="left")
            .with_columns(**columns)
            .with_columns((ok & pl.col("product_id").is_not_null()).fill_null(False).alias("ok"))
        )
        checked_frame = checked.select(*FRAME_COLUMNS, "ok").collect()
        good = checked_frame.filter(pl.col("ok")).select(FRAME_COLUMNS)
        rest = checked_frame.filter(~pl.col("ok")).get_column("line_number").to_list()
        rows: list[base.SaleRow | base.BadLine] = []
        if rest:  # read again line by line, from the file's own text
            raw_lines = data.split(b"\n")
            rest_texts = [raw_lines[line_number - number].decode("utf-8") for line_number in rest]
            rows = self._line_rows(rest_texts, rest, plan)
        return Chunk(good if good.height else None, rows), next_number

    def _line_rows(
        self, lines: list[str], numbers: Any, plan: TablePlan
    ) -> list[base.SaleRow | base.BadLine]:
        """Lines (without quoted line breaks) read by csv and checked one by one."""
        rows: list[base.SaleRow | base.BadLine] = []
        for number, line in zip(numbers, lines, strict=True):
            cells: list[str] = next(self.layout.reader([line]), [])
            if not any(cells):
                continue  # csv skips lines with no text in any cell
            try:
                rows.append(plan.build(number, cells))
            except base.LineError as exc:
                rows.append(base.BadLine(number, str(exc)))
        return rows

    def _column(self, name: str, rule: Any) -> tuple[pl.Expr, pl.Expr | None]:
        """The field's checked text, and what a line must meet for it (evaluated once the
        checked columns exist)."""
        if isinstance(rule, Constant):
            return pl.lit(_text(rule.value)), None
        column = f"c{rule.index}"
        if isinstance(rule, Quantity):
            return pl.col(column), pl.col(column).str.contains(_QUANTITY)
        if isinstance(rule, Amount):
            text = pl.col(column)
            if rule.decimal_comma:
                text = text.str.replace(",", ".", literal=True)
            return text, pl.col(column).str.contains(_AMOUNT[rule.decimal_comma])
        assert isinstance(rule, Cell)
        mapping = self._checked[name]
        checked = pl.col(column).replace_strict(mapping, default=None, return_dtype=pl.String)
        return checked, pl.col(name).is_not_null()  # a value its check refused maps to null

    def _check_distinct(self, cells: pl.DataFrame, plan: TablePlan) -> None:
        """Run the layout's checks on the cell values and ISRC/UPC pairs new in this chunk
        (found in one pass), keeping the results for the chunks after it."""
        keys = [f"c{plan.isrc}", f"c{plan.upc}"]
        named = {name: rule for name, rule in plan.rules.items() if isinstance(rule, Cell)}
        values = [pl.col(f"c{rule.index}").unique().implode().alias(n) for n, rule in named.items()]
        pairs = cells.lazy().select(keys).unique().drop_nulls()
        if self._pairs is not None:  # only the pairs not seen in earlier chunks
            pairs = pairs.join(self._pairs.lazy(), on=keys, how="anti")
        distinct, new_pairs = pl.collect_all([cells.lazy().select(values), pairs])
        for name, column_values in distinct.row(0, named=True).items():
            checked = self._checked.setdefault(name, {})
            check = named[name].check
            for value in column_values:
                if value is None or value in checked:
                    continue
                try:
                    checked[value] = _text(check(value))
                except base.LineError:
                    checked[value] = None
        new: list[tuple[str, str, int | None]] = []
        for raw in new_pairs.iter_rows():
            try:
                new.append((*raw, self.identify(*base.identifiers(*raw))))
            except base.LineError:  # kept as a null, so the pair is not checked again
                new.append((*raw, None))
        if new or self._pairs is None:
            frame = pl.DataFrame(
                new, schema=[(keys[0], pl.String), (keys[1], pl.String),
                             ("product_id", pl.Int64)], orient="row",
            )  # fmt: skip
            self._pairs = frame if self._pairs is None else pl.concat([self._pairs, frame])


def _text(value: Any) -> str:
    return value.isoformat() if hasattr(value, "isoformat") else str(value)
