"""A European store's export (Deezer-style): semicolon-separated, German headers, dates as
DD.MM.YYYY, decimal comma, and the currency in the amount columns' headers, e.g.
"Umsatz netto (EUR)", not on each line."""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from typing import TextIO

from royalties.parsers import base

COLUMNS = {
    "date": "Datum",
    "territory": "Land",
    "isrc": "ISRC",
    "upc": "EAN",
    "usage_type": "Nutzung",
    "quantity": "Anzahl",
}
USAGE = {"stream": "stream", "streaming": "stream", "download": "download", "video": "ugc"}
_AMOUNT_HEADER = re.compile(r"^umsatz (brutto|netto) \(([a-z]{3})\)$", re.IGNORECASE)


class EuropeanCsv:
    code = "european_csv"
    description = (
        "Semicolon-separated; Datum (DD.MM.YYYY), Land, ISRC, EAN, Nutzung, Anzahl, "
        "Umsatz brutto (CUR), Umsatz netto (CUR); decimal comma; currency in the headers."
    )

    def detect(self, head: str) -> bool:
        first = head.splitlines()[0] if head else ""
        return ";" in first and "umsatz netto" in first.lower()

    def parse(
        self, stream: TextIO, context: base.ParseContext
    ) -> Iterator[base.SaleRow | base.BadLine]:
        reader = csv.reader(stream, delimiter=";")
        header, col = base.read_header(reader, COLUMNS)
        amounts: dict[str, tuple[int, str]] = {}
        for index, title in enumerate(header):
            found = _AMOUNT_HEADER.match(title.strip())
            if found:
                amounts[found.group(1).lower()] = (index, found.group(2).upper())
        if set(amounts) != {"brutto", "netto"}:
            raise base.ReportMalformed(
                "Missing columns: Umsatz brutto (CUR) and Umsatz netto (CUR)."
            )
        try:
            currency = base.currency(amounts["netto"][1])
        except base.LineError as exc:
            raise base.ReportMalformed(str(exc)) from None
        gross_at, net_at = amounts["brutto"][0], amounts["netto"][0]

        def build(number: int, row: list[str]) -> base.SaleRow:
            isrc, upc = base.identifiers(row[col["isrc"]], row[col["upc"]])
            return base.SaleRow(
                line_number=number,
                store=context.store,
                sale_month=base.month(row[col["date"]], ("%d.%m.%Y",)),
                territory=base.territory(row[col["territory"]]),
                isrc=isrc,
                upc=upc,
                usage_type=base.usage(row[col["usage_type"]], USAGE),
                quantity=base.quantity(row[col["quantity"]]),
                gross=base.amount(row[gross_at], decimal_comma=True, field="gross"),
                net=base.amount(row[net_at], decimal_comma=True, field="net"),
                currency=currency,
            )

        yield from base.table_rows(reader, len(header), build)
