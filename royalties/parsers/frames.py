"""Read a table layout's report a column at a time with polars (`ROYALTIES_IMPORT_READER=
polars`): the fastest reader, for about 115 MB more memory than the `columns` reader.

Each 2 MB chunk (some 28,000 lines) is split into cells by polars' CSV reader and checked as
columns: the low-cardinality cells (store, month, territory, usage type, currency, and the ISRC/UPC
pair) by running the layout's own check once per distinct value, the numbers against a
strict pattern of plain digits. A line that passes everything is taken as checked; any other
line (a bad cell, an amount with an exponent, a wrong number of cells) goes through the row
path (`TablePlan.build`), which gives the same values and the same error messages as a
line-by-line parse. So the two paths cannot disagree: the fast one only accepts what the
slow one would have accepted unchanged. A chunk that contains the layout's quote character
is read by `csv` line by line (`TableFileReader`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import polars as pl

from royalties.parsers import base
from royalties.parsers.chunks import Chunk
from royalties.parsers.table import Amount, Cell, Constant, Quantity, TablePlan
from royalties.parsers.table_file import PLAIN_AMOUNT, PLAIN_QUANTITY, TableFileReader, checked_text

# The plain-number patterns (`table_file`), anchored for polars' `str.contains`.
_QUANTITY = rf"^(?:{PLAIN_QUANTITY})$"
_AMOUNT = {comma: rf"^(?:{pattern})$" for comma, pattern in PLAIN_AMOUNT.items()}
# The columns of a chunk's frame of checked lines; all text but the line number.
FRAME_COLUMNS = ("line_number", "product_id", "store", "sale_month", "territory", "usage_type",
                 "quantity", "gross", "net", "currency")  # fmt: skip


@dataclass
class FrameReader(TableFileReader):
    """Checks a table layout's file with polars; what it has checked is kept for the next
    chunks."""

    chunk_bytes = 2 * 1024 * 1024
    # (raw ISRC cell, raw UPC cell) -> the product id of the checked pair, or null if bad.
    _pairs: pl.DataFrame | None = None

    def _chunk(self, data: bytes, plan: TablePlan, number: int) -> tuple[Chunk, int]:
        data.decode("utf-8")  # raises UnicodeDecodeError; polars would replace bad bytes
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
            return Chunk(self._line_rows(texts, list(range(number, next_number)), plan)), (
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
        return Chunk(rows, frame=good if good.height else None), next_number

    def _column(self, name: str, rule: Any) -> tuple[pl.Expr, pl.Expr | None]:
        """The field's checked text, and what a line must meet for it (evaluated once the
        checked columns exist)."""
        if isinstance(rule, Constant):
            return pl.lit(checked_text(rule.value)), None
        column = f"c{rule.index}"
        if isinstance(rule, Quantity):
            return pl.col(column), pl.col(column).str.contains(_QUANTITY)
        if isinstance(rule, Amount):
            text = pl.col(column)
            if rule.decimal_comma:
                text = text.str.replace(",", ".", literal=True)
            return text, pl.col(column).str.contains(_AMOUNT[rule.decimal_comma])
        assert isinstance(rule, Cell)
        mapping = self._checked.get(name, {})
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
            for value in column_values:
                if value is not None:
                    self._check(name, named[name], value)
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
