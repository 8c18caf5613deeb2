"""What every layout parser yields, and the field checks they share.

A parser reads a text stream one line at a time and yields, per sales line, either a
`SaleRow` or a `BadLine` naming the line number and the reason; it never holds the file.
A problem with the file as a whole (no header, a wrong footer count) raises `ReportMalformed`.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, NamedTuple, Protocol, TextIO

from royalties.choices import UsageType
from royalties.currencies import is_currency

MAX_INTEGER_DIGITS = 10  # LINE_AMOUNT: 20 digits, 10 of them decimal places
MAX_DECIMAL_PLACES = 10
MAX_QUANTITY_DIGITS = 18  # fits a bigint
MAX_STORE_LENGTH = 50  # SalesLine.store
_ISRC = re.compile(r"^[A-Z]{2}[A-Z0-9]{3}\d{7}$")
_UPC = re.compile(r"^\d{12,14}$")
_TERRITORY = re.compile(r"^[A-Z]{2}$")
USAGE_TYPES = frozenset(UsageType.values)


class SaleRow(NamedTuple):
    """One valid sales line. A named tuple: built once per line, it must be cheap (a frozen
    dataclass's __init__ cost more than parsing the line)."""

    line_number: int
    store: str
    sale_month: dt.date
    territory: str
    isrc: str
    upc: str
    usage_type: str
    quantity: int
    gross: Decimal
    net: Decimal
    currency: str


class BadLine(NamedTuple):
    line_number: int
    reason: str


class LineError(ValueError):
    """One field of one line is wrong; the line is reported and skipped."""


class ReportMalformed(ValueError):
    """The file as a whole cannot be read in this layout; the report is rejected."""


SAVE_AS_UTF8 = 'Save it as UTF-8 (in Excel: "CSV UTF-8") and upload it again.'


def not_utf8(data: bytes, error: UnicodeDecodeError, first_line: int) -> ReportMalformed:
    """The error for `data`, whose first line is `first_line`, failing to decode: the line
    and byte where it does (a file saved in a Windows or Latin-1 encoding, usually)."""
    line = first_line + data.count(b"\n", 0, error.start)
    return ReportMalformed(
        f"The file is not UTF-8 text: line {line} has the byte 0x{data[error.start]:02X}. "
        + SAVE_AS_UTF8
    )


@dataclass(frozen=True)
class ParseContext:
    """What the upload says about the file: its store and sales month, when known."""

    store: str
    period: dt.date | None = None


class Layout(Protocol):
    code: str
    description: str

    def detect(self, head: str) -> bool: ...

    def parse(self, stream: TextIO, context: ParseContext) -> Iterator[SaleRow | BadLine]: ...


_PLAIN_AMOUNT = re.compile(r"-?\d{1,10}(?:\.\d{1,10})?")


def amount(value: str, *, decimal_comma: bool = False, field: str = "amount") -> Decimal:
    if not decimal_comma and _PLAIN_AMOUNT.fullmatch(value):
        return Decimal(value)  # the common case, already within 10 + 10 digits
    text = value.strip().replace(" ", "")
    if decimal_comma:
        text = text.replace(".", "").replace(",", ".")
    try:
        number = Decimal(text)
    except InvalidOperation:
        raise LineError(f"{field}: '{value}' is not a number") from None
    if not number.is_finite():
        raise LineError(f"{field}: '{value}' is not a number")
    exponent = number.as_tuple().exponent
    assert isinstance(exponent, int)
    places = max(0, -exponent)
    if places > MAX_DECIMAL_PLACES:
        raise LineError(f"{field}: more than {MAX_DECIMAL_PLACES} decimal places")
    if number and number.adjusted() + 1 > MAX_INTEGER_DIGITS:  # 1E+15 has 16 integer digits
        raise LineError(f"{field}: too large")
    return number


def quantity(value: str) -> int:
    text = value.strip()
    if not text.lstrip("-").isdecimal():  # isdigit() admits "²", which int() refuses
        raise LineError(f"quantity: '{value}' is not a whole number")
    if len(text.lstrip("-")) > MAX_QUANTITY_DIGITS:  # the column is a bigint
        raise LineError("quantity: too large")
    return int(text)


def store(value: str, default: str) -> str:
    name = value.strip() or default
    if len(name) > MAX_STORE_LENGTH:
        raise LineError(f"store: longer than {MAX_STORE_LENGTH} characters")
    return name


def product(price: Decimal, units: int, *, field: str) -> Decimal:
    """price x units, refused if it no longer fits an amount column."""
    total = price * units
    if total and total.adjusted() + 1 > MAX_INTEGER_DIGITS:
        raise LineError(f"{field}: too large")
    return total


# The same few territories, currencies and usage types, and a catalog's worth of identifiers,
# repeat on every line: their checks are cached (a failing value raises, and is not cached).
@functools.lru_cache(maxsize=1024)
def currency(value: str) -> str:
    code = value.strip().upper()
    if not is_currency(code):
        raise LineError(f"currency: unknown currency '{value.strip()}'")
    return code


@functools.lru_cache(maxsize=1024)
def territory(value: str) -> str:
    code = value.strip().upper()
    if code == "UK":  # stores commonly send UK; ISO 3166 says GB
        code = "GB"
    if not _TERRITORY.match(code):
        raise LineError(f"territory: '{value.strip()}' is not an ISO 3166 country code")
    return code


@functools.lru_cache(maxsize=1 << 16)
def identifiers(isrc_value: str, upc_value: str) -> tuple[str, str]:
    isrc = isrc_value.strip().upper().replace("-", "")
    upc = upc_value.strip()
    if isrc and not _ISRC.match(isrc):
        raise LineError(f"isrc: '{isrc_value.strip()}' is not an ISRC")
    if upc and not _UPC.match(upc):
        raise LineError(f"upc: '{upc}' is not a UPC/EAN")
    if not isrc and not upc:
        raise LineError("neither an ISRC nor a UPC")
    return isrc, upc


def month(value: str, formats: tuple[str, ...]) -> dt.date:
    return _month(value.strip(), formats)


@functools.lru_cache(maxsize=4096)  # a report has few distinct dates; strptime is slow
def _month(text: str, formats: tuple[str, ...]) -> dt.date:
    for fmt in formats:
        try:
            return dt.datetime.strptime(text, fmt).date().replace(day=1)
        except ValueError:
            continue
    raise LineError(f"date: '{text}' is not a date")


def usage(value: str, mapping: dict[str, str]) -> str:
    return usage_pairs(value, tuple(mapping.items()) if mapping else ())


@functools.lru_cache(maxsize=1024)
def usage_pairs(value: str, pairs: tuple[tuple[str, str], ...]) -> str:
    """`value` as one of our usage types; `pairs` maps the layout's own names to ours."""
    mapping = dict(pairs)
    key = value.strip().lower()
    if key in mapping:
        return mapping[key]
    if key in USAGE_TYPES:
        return key
    raise LineError(f"usage type: unknown '{value.strip()}'")


def header_map(header: list[str], required: dict[str, str]) -> dict[str, int]:
    """Column positions by our field name; `required` maps field to the layout's header."""
    positions = {name.strip().lower(): i for i, name in enumerate(header)}
    missing = [title for title in required.values() if title.lower() not in positions]
    if missing:
        raise ReportMalformed(f"Missing columns: {', '.join(missing)}.")
    return {field: positions[title.lower()] for field, title in required.items()}


def cells(row: list[str], width: int) -> list[str]:
    if len(row) < width:
        raise LineError(f"expected {width} fields, found {len(row)}")
    return row


def read_header(reader: Any, columns: dict[str, str]) -> tuple[list[str], dict[str, int]]:
    """The header line and the positions of `columns` in it (csv reader of a layout)."""
    header = next(reader, None)
    if header is None:
        raise ReportMalformed("The file is empty.")
    return header, header_map(header, columns)


def table_rows(
    reader: Any, width: int, build: Callable[[int, list[str]], SaleRow]
) -> Iterator[SaleRow | BadLine]:
    """Every non-blank line after the header: `build(line number, cells)`, or the line as a
    `BadLine` naming why it could not be read."""
    for row in reader:
        number = reader.line_num
        if not any(row):
            continue
        try:
            yield build(number, cells(row, width))
        except LineError as exc:
            yield BadLine(number, str(exc))
