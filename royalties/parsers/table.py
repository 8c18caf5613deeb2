"""Layouts that are one table of delimited cells, described field by field.

A `TableLayout` says, for a file's header, where each field is and how it is checked (a
`TablePlan`). The same plan drives both readers: `TablePlan.build` checks one line's cells
(the row path, `parse`), and `royalties.parsers.columnar` checks a million lines at a time
with the same rules. Layouts whose lines need more than a cell per field (a price times a
quantity, DDEX DSR's record types) parse their own rows instead.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Literal, TextIO

from royalties.parsers import base


@dataclass(frozen=True)
class Cell:
    """A low-cardinality cell (store, month, territory, usage type, currency) and its check;
    the check is cached or cheap, and the columnar reader runs it once per distinct value."""

    index: int
    check: Callable[[str], Any]


@dataclass(frozen=True)
class Constant:
    """A field the file gives once (in its header or by the upload), not per line."""

    value: Any


@dataclass(frozen=True)
class Quantity:
    index: int


@dataclass(frozen=True)
class Amount:
    index: int
    field: str
    decimal_comma: bool = False


Rule = Cell | Constant | Quantity | Amount

# The order of the checks, which decides which error a line with several bad cells reports.
FIELDS = ("store", "sale_month", "territory", "usage_type", "quantity", "gross", "net", "currency")


@dataclass(frozen=True)
class TablePlan:
    """Where each field of a layout's lines is, for one file's header."""

    width: int
    isrc: int
    upc: int
    rules: dict[str, Rule]  # one per name in FIELDS

    def value(self, name: str, cells: list[str]) -> Any:
        rule = self.rules[name]
        if isinstance(rule, Constant):
            return rule.value
        if isinstance(rule, Cell):
            return rule.check(cells[rule.index])
        if isinstance(rule, Quantity):
            return base.quantity(cells[rule.index])
        return base.amount(cells[rule.index], decimal_comma=rule.decimal_comma, field=rule.field)

    def build(self, number: int, row: list[str]) -> base.SaleRow:
        """One line's cells checked into a `SaleRow`; raises `LineError` naming the first
        bad cell."""
        cells = base.cells(row, self.width)
        isrc, upc = base.identifiers(cells[self.isrc], cells[self.upc])
        store, month, territory, usage, quantity, gross, net, currency = (
            self.value(name, cells) for name in FIELDS
        )
        return base.SaleRow(
            number, store, month, territory, isrc, upc, usage, quantity, gross, net, currency
        )


class TableLayout:
    """A delimited-table layout: subclasses set the dialect and return a plan per header."""

    code = ""
    description = ""
    delimiter = ","
    quoting: Literal[0, 1, 2, 3] = csv.QUOTE_MINIMAL

    def detect(self, head: str) -> bool:
        raise NotImplementedError

    def plan(self, header: list[str], context: base.ParseContext) -> TablePlan:
        raise NotImplementedError

    def reader(self, lines: Any) -> Any:
        return csv.reader(lines, delimiter=self.delimiter, quoting=self.quoting)

    def parse(
        self, stream: TextIO, context: base.ParseContext
    ) -> Iterator[base.SaleRow | base.BadLine]:
        reader = self.reader(stream)
        header = next(reader, None)
        if header is None:
            raise base.ReportMalformed("The file is empty.")
        plan = self.plan(header, context)
        yield from base.table_rows(reader, plan.width, plan.build)


def month_check(formats: tuple[str, ...]) -> Callable[[str], Any]:
    def check(value: str) -> Any:
        return base.month(value, formats)

    return check


def usage_check(mapping: dict[str, str]) -> Callable[[str], str]:
    pairs = tuple(mapping.items())

    def check(value: str) -> str:
        return base.usage_pairs(value, pairs)

    return check


def store_check(default: str) -> Callable[[str], str]:
    def check(value: str) -> str:
        return base.store(value, default)

    return check
