"""Read a table layout's report a column at a time, in plain Python at C speed.

A million-line report spent most of its import in Python's per-line checks: a function call
per cell, a `SaleRow` and two `Decimal`s per line. For a `TableLayout`, each chunk of the
file (32 kB, some 450 lines) is instead split into cells in one `str.split` and sliced
into columns, and each column is checked with a few calls that loop in C:

- the low-cardinality cells (store, month, territory, usage type, currency) and the
  ISRC/UPC pairs run the layout's own check once per distinct value, kept across chunks;
  a column whose values are all known to be unchanged by their check is taken as it is;
- quantities and amounts are checked in a few passes over the column's text, with no
  string per cell, when they all have the usual form (digits, or digits, a point and
  digits); otherwise against a strict pattern of plain digits once per shape (the value
  with its digits made 9s: a few hundred shapes in a million amounts);
- products are looked up by their (ISRC, UPC) cells in a dict that gives their id as text,
  ready for the COPY.

A line that passes everything is taken as checked; any other line (a bad cell, an amount
with an exponent, a wrong number of cells, a blank line) goes through the row path
(`TablePlan.build`), which gives the same values and the same error messages as a
line-by-line parse. So the two readers cannot disagree: the fast one only accepts what the
slow one would have accepted unchanged (`royalties/tests/test_columnar.py` checks that).

A chunk that contains the layout's quote character is read by `csv` line by line
(`TableFileReader`).

The chunk size is small on purpose: a chunk's cells are some ten small strings per line,
and while they stay in the CPU's cache, slicing, checking and joining them again costs less:
a million lines took 4.5 s of CPU in 32 kB chunks, 6 to 8 s in 256 kB and 1 MB ones on this
machine. Memory stays flat whatever the file's size.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import compress, repeat
from typing import Any

from royalties.parsers import base
from royalties.parsers.chunks import CheckedLines, Chunk
from royalties.parsers.table import Amount, Cell, Constant, Quantity, TablePlan
from royalties.parsers.table_file import (
    PLAIN_AMOUNT,
    PLAIN_AMOUNT_DIGITS,
    PLAIN_QUANTITY,
    PLAIN_QUANTITY_DIGITS,
    TableFileReader,
    checked_text,
)

_PLAIN = {pattern: re.compile(pattern) for pattern in (PLAIN_QUANTITY, *PLAIN_AMOUNT.values())}
# A number's shape: its ASCII digits all made 9s (bytes.translate is twice str.translate's
# speed). A column of a million amounts has a few hundred shapes, so the pattern runs per
# shape, not per cell.
_NINES = bytes.maketrans(b"012345678", b"999999999")


def _all_plain(joined: str, count: int, digits: int, point: str | None) -> bool:
    """Whether each of the `count` cells of `joined` (one per line) is the usual plain
    number: all of them ASCII digits, or all digits, a decimal `point` and digits; at most
    `digits` digits on either side. A few passes over the text, no string per cell; False
    sends the column to the per-shape check, which takes the other plain forms (a minus
    sign, amounts with and without a point in one column)."""
    if not joined or not joined.isascii():
        return False
    nines = joined.encode("ascii").translate(_NINES)
    skeleton = nines.translate(None, b"9")  # the points and line breaks
    mark = point.encode() if point is not None else b""
    if skeleton == b"\n" * (count - 1):  # whole numbers
        empty = b"\n\n" in nines or nines[:1] == b"\n" or nines[-1:] == b"\n"
    elif mark and skeleton == (mark + b"\n") * (count - 1) + mark:
        # One point per cell, with digits on both sides.
        empty = nines[:1] == mark or nines[-1:] == mark
        empty = empty or b"\n" + mark in nines or mark + b"\n" in nines
    else:
        return False
    return not empty and b"9" * (digits + 1) not in nines


@dataclass
class ColumnReader(TableFileReader):
    """Checks a table layout's file a column at a time; what it has checked is kept for the
    next chunks."""

    chunk_bytes = 32 * 1024
    # Per Cell field: the checked raw values whose text is the value itself.
    _unchanged: dict[str, set[str]] = field(default_factory=dict)
    # (ISRC cell, UPC cell) as in the file -> product id, as text; and the pairs refused.
    _products: dict[tuple[str, str], str] = field(default_factory=dict)
    _bad_pairs: set[tuple[str, str]] = field(default_factory=set)

    def _chunk(self, data: bytes, plan: TablePlan, number: int) -> tuple[Chunk, int]:
        """The chunk's lines: those that pass every column check as `CheckedLines`, the
        others through the row path. `number` is the first line's number."""
        text = data.decode("utf-8")
        # The delimiters and line breaks alone, in one C pass: a tenth of the bytes, so the
        # lines are counted there too.
        skeleton = data.translate(None, self._not_skeleton) + b"\n" * (not data.endswith(b"\n"))
        count = skeleton.count(b"\n")
        body = text.removesuffix("\n")
        lines, positions, flat = self._split(skeleton, body, count, plan.width)
        size = len(positions)
        refused: set[int] = set()  # indexes into `positions` of lines a check refused
        width = plan.width
        fields = {name: self._column(name, rule, flat, width, size, refused)
                  for name, rule in plan.rules.items()}  # fmt: skip
        product_ids = self._product_ids(flat[plan.isrc :: width], flat[plan.upc :: width], refused)
        numbers: Sequence[int] = (
            range(number, number + count) if size == count else [number + at for at in positions]
        )
        if refused:
            keep = [index not in refused for index in range(size)]
            numbers = list(compress(numbers, keep))
            product_ids = list(compress(product_ids, keep))
            fields = {name: list(compress(values, keep)) for name, values in fields.items()}
        rows: list[base.SaleRow | base.BadLine] = []
        if refused or size < count:
            lines = lines or body.split("\n")
            rest = sorted(
                {*range(count)}.difference(positions).union(positions[at] for at in refused)
            )
            rows = self._line_rows([lines[at] for at in rest], [number + at for at in rest], plan)
        checked = CheckedLines(numbers, product_ids, fields) if numbers else None
        return Chunk(rows, lines=checked), number + count

    def _split(
        self, skeleton: bytes, body: str, count: int, width: int
    ) -> tuple[list[str] | None, Sequence[int], list[str]]:
        """The chunk's cells, all in one list, of the lines that have the header's number
        of cells (`positions`, indexes of the chunk's lines); the others (blank, short, with
        extra cells) are left to the row path. `skeleton` is the chunk's delimiters and line
        breaks; `lines` the chunk split into lines, if that was needed."""
        delimiter = self.layout.delimiter
        # The usual case: every line has the header's number of cells.
        if skeleton == (delimiter * (width - 1) + "\n").encode() * count:
            return None, range(count), body.replace("\n", delimiter).split(delimiter)
        lines = body.split("\n")
        cells_per_line = list(map(str.count, lines, repeat(delimiter)))
        positions = [at for at, cells in enumerate(cells_per_line) if cells == width - 1]
        table = [lines[at] for at in positions]
        return lines, positions, delimiter.join(table).split(delimiter) if table else []

    @functools.cached_property
    def _not_skeleton(self) -> bytes:
        """Every byte but the delimiter and the line break: deleted, they leave a line's
        skeleton."""
        keep = {ord(self.layout.delimiter), ord("\n")}
        return bytes(byte for byte in range(256) if byte not in keep)

    def _column(
        self, name: str, rule: Any, flat: list[str], width: int, size: int, refused: set[int]
    ) -> Sequence[str]:
        """One field's checked text for every line of the table; the indexes of the lines
        whose cell is not plainly valid are added to `refused`."""
        if isinstance(rule, Constant):
            return [checked_text(rule.value)] * size
        column = flat[rule.index :: width]
        if isinstance(rule, Cell):
            return self._cells(name, rule, column, refused)
        comma = isinstance(rule, Amount) and rule.decimal_comma
        if isinstance(rule, Quantity):
            plain, digits, point = _PLAIN[PLAIN_QUANTITY], PLAIN_QUANTITY_DIGITS, None
        else:
            plain, digits = _PLAIN[PLAIN_AMOUNT[comma]], PLAIN_AMOUNT_DIGITS
            point = "," if comma else "."
        joined = "\n".join(column)
        if not _all_plain(joined, len(column), digits, point):
            shapes = set(joined.encode().translate(_NINES).decode().split("\n"))
            if not all(map(plain.fullmatch, shapes)):
                refused.update(at for at, value in enumerate(column) if not plain.fullmatch(value))
        if comma:
            return joined.replace(",", ".").split("\n") if column else []
        return column

    def _cells(self, name: str, rule: Cell, column: list[str], refused: set[int]) -> Sequence[str]:
        unchanged = self._unchanged.setdefault(name, set())
        # One value in the whole chunk (a store, a month): compared, not hashed, per line.
        if column and column[0] == column[-1] and column.count(column[0]) == len(column):
            text = self._check(name, rule, column[0])
            if text == column[0]:
                return column
            if text is None:
                refused.update(range(len(column)))
            return [text or ""] * len(column)
        if unchanged.issuperset(column):  # the usual case after the first chunk
            return column
        checked = self._checked.setdefault(name, {})
        texts = list(map(checked.get, column))
        if None in texts:  # values not seen before, or refused
            for value in dict.fromkeys(column).keys() - checked.keys():
                self._check(name, rule, value)
            texts = list(map(checked.get, column))
            refused.update(at for at, text in enumerate(texts) if text is None)
        return texts  # type: ignore[return-value]  # None only on refused lines

    def _check(self, name: str, rule: Cell, value: str) -> str | None:
        text = super()._check(name, rule, value)
        if text == value:
            self._unchanged.setdefault(name, set()).add(value)
        return text

    def _product_ids(self, isrcs: list[str], upcs: list[str], refused: set[int]) -> list[str]:
        """Each line's product id. A pair is identified the first time a line whose other
        cells passed names it, as the row path does; a refused pair refuses its lines."""
        ids = list(map(self._products.get, zip(isrcs, upcs, strict=True)))
        at = -1
        while True:  # the lines of pairs not seen before, or refused
            try:
                at = ids.index(None, at + 1)
            except ValueError:
                break
            pair = (isrcs[at], upcs[at])
            product_id = self._products.get(pair)
            if product_id is None:
                if at in refused or pair in self._bad_pairs:
                    refused.add(at)
                    ids[at] = ""  # not None: the line is refused, its id never read
                    continue
                try:
                    identified = self.identify(*base.identifiers(*pair))
                except base.LineError:
                    self._bad_pairs.add(pair)
                    refused.add(at)
                    ids[at] = ""
                    continue
                product_id = self._products[pair] = str(identified)
            ids[at] = product_id
        return ids  # type: ignore[return-value]
