"""What both column readers share: a table layout's file read in pieces that end at a line
break, its header planned, and the lines that cannot be read a column at a time (a quoted
cell, a bad cell) read by `csv` and checked one by one, as the line-by-line parser does.

A piece that contains the layout's quote character (a quoted cell may hold the delimiter or
a line break) switches the rest of the file to `csv` line by line, keeping the line numbers.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import IO, Any, ClassVar

from royalties.parsers import base
from royalties.parsers.chunks import Chunk, Identify, row_chunks
from royalties.parsers.table import Cell, TableLayout, TablePlan

# What a plain number looks like: the row path's checks give these back unchanged, so a
# column reader may take a cell that matches as it is.
PLAIN_QUANTITY_DIGITS, PLAIN_AMOUNT_DIGITS = 18, 10
PLAIN_QUANTITY = rf"-?[0-9]{{1,{PLAIN_QUANTITY_DIGITS}}}"
PLAIN_AMOUNT = {
    comma: rf"-?[0-9]{{1,{PLAIN_AMOUNT_DIGITS}}}(?:{point}[0-9]{{1,{PLAIN_AMOUNT_DIGITS}}})?"
    for comma, point in ((False, r"\."), (True, ","))
}


@dataclass
class TableFileReader:
    """Reads one file of a table layout in pieces of about `chunk_bytes`; a subclass checks
    each piece (`_chunk`)."""

    chunk_bytes: ClassVar[int]
    layout: TableLayout
    raw: IO[bytes]
    context: base.ParseContext
    identify: Identify
    # Per Cell field: each value checked so far -> its text (an ISO date for a month), or
    # None if its check refused it. Kept across chunks: the values repeat.
    _checked: dict[str, dict[str, str | None]] = field(default_factory=dict)

    def chunks(self) -> Iterator[Chunk]:
        pieces = self._pieces()
        first = next(pieces, None)
        if first is None:
            raise base.ReportMalformed("The file is empty.")
        header_bytes, _, data = first.partition(b"\n")
        header_line = _decoded(header_bytes, 1).removesuffix("\r")
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
                yield from self._rows_from(_decoded(piece, number), texts, plan, number)
                return
            if piece:
                try:
                    chunk, number = self._chunk(piece, plan, number)
                except UnicodeDecodeError as exc:
                    raise base.not_utf8(piece, exc, number) from None
                yield chunk
            piece = next(pieces, None)

    def _pieces(self) -> Iterator[bytes]:
        """The file in pieces that end at a line break (the last may not). A line break byte
        is never inside a multi-byte character, so each piece decodes on its own."""
        carry = b""
        started = False
        while data := self.raw.read(self.chunk_bytes):
            data = carry + data
            if not started and len(data) >= len(codecs.BOM_UTF8):
                data, started = data.removeprefix(codecs.BOM_UTF8), True
            cut = data.rfind(b"\n") + 1
            if cut:
                yield data[:cut]
                carry = data[cut:]
            else:
                carry = data
        if not started:
            carry = carry.removeprefix(codecs.BOM_UTF8)
        if carry:
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
            yield Chunk([item._replace(line_number=item.line_number + offset)
                         for item in chunk.rows])  # fmt: skip

    def _chunk(self, data: bytes, plan: TablePlan, number: int) -> tuple[Chunk, int]:
        """The piece's lines, whose first is line `number`, and the next piece's first line
        number. Raises `UnicodeDecodeError` if the piece is not UTF-8 (`chunks` names the
        line)."""
        raise NotImplementedError

    def _check(self, name: str, rule: Cell, value: str) -> str | None:
        """The checked text of one value of a Cell field (None if refused), run once."""
        checked = self._checked.setdefault(name, {})
        if value not in checked:
            try:
                checked[value] = checked_text(rule.check(value))
            except base.LineError:
                checked[value] = None
        return checked[value]

    def _line_rows(
        self, lines: list[str], numbers: list[int], plan: TablePlan
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


def _decoded(data: bytes, first_line: int) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise base.not_utf8(data, exc, first_line) from None


def checked_text(value: Any) -> str:
    """A checked field's value as the loader writes it (a month as an ISO date)."""
    return value.isoformat() if hasattr(value, "isoformat") else str(value)
