"""Layouts that are one table of delimited cells, described field by field.

A `TableLayout` says, for a file's header, where each field is and how it is checked (a
`TablePlan`). The same plan drives every reader: `TablePlan.build` checks one line's cells
(the row path, `parse`), and the column readers (`royalties.parsers.columns`, `.frames`)
check a million lines at a time with the same rules. Layouts whose lines need more than a
cell per field (a price times a quantity, DDEX DSR's record types) parse their own rows
instead.
"""

from __future__ import annotations

import csv
import functools
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Literal, TextIO

from royalties.parsers import base


@dataclass(frozen=True)
class Cell:
    """A low-cardinality cell (store, month, territory, usage type, currency) and its check;
    the check is cached or cheap, and the column readers run it once per distinct value."""

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

    @functools.cached_property
    def _getters(self) -> tuple[Callable[[list[str]], Any], ...]:
        """Per field in FIELDS, a function of the line's cells: decided once per file, not
        per cell (this runs for every line the column reader does not take)."""
        return tuple(_getter(self.rules[name]) for name in FIELDS)

    def build(self, number: int, row: list[str]) -> base.SaleRow:
        """One line's cells checked into a `SaleRow`; raises `LineError` naming the first
        bad cell."""
        if len(row) < self.width:
            raise base.LineError(f"expected {self.width} fields, found {len(row)}")
        isrc, upc = base.identifiers(row[self.isrc], row[self.upc])
        store, month, territory, usage, quantity, gross, net, currency = self._getters
        return base.SaleRow(
            number, store(row), month(row), territory(row), isrc, upc, usage(row),
            quantity(row), gross(row), net(row), currency(row),
        )  # fmt: skip


def _getter(rule: Rule) -> Callable[[list[str]], Any]:
    if isinstance(rule, Constant):
        value = rule.value
        return lambda cells: value
    index = rule.index
    if isinstance(rule, Cell):
        check = rule.check
        return lambda cells: check(cells[index])
    if isinstance(rule, Quantity):
        return lambda cells: base.quantity(cells[index])
    field, comma = rule.field, rule.decimal_comma
    return lambda cells: base.amount(cells[index], decimal_comma=comma, field=field)


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
