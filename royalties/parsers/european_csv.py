"""A European store's export (Deezer-style): semicolon-separated, German headers, dates as
DD.MM.YYYY, decimal comma, and the currency in the amount columns' headers, e.g.
"Umsatz netto (EUR)", not on each line."""

from __future__ import annotations

import re

from royalties.parsers import base
from royalties.parsers.table import (
    Amount,
    Cell,
    Constant,
    Quantity,
    TableLayout,
    TablePlan,
    month_check,
    usage_check,
)

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


class EuropeanCsv(TableLayout):
    code = "european_csv"
    description = (
        "Semicolon-separated; Datum (DD.MM.YYYY), Land, ISRC, EAN, Nutzung, Anzahl, "
        "Umsatz brutto (CUR), Umsatz netto (CUR); decimal comma; currency in the headers."
    )
    delimiter = ";"

    def detect(self, head: str) -> bool:
        first = head.splitlines()[0] if head else ""
        return ";" in first and "umsatz netto" in first.lower()

    def plan(self, header: list[str], context: base.ParseContext) -> TablePlan:
        col = base.header_map(header, COLUMNS)
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
        return TablePlan(
            width=len(header),
            isrc=col["isrc"],
            upc=col["upc"],
            rules={
                "store": Constant(context.store),
                "sale_month": Cell(col["date"], month_check(("%d.%m.%Y",))),
                "territory": Cell(col["territory"], base.territory),
                "usage_type": Cell(col["usage_type"], usage_check(USAGE)),
                "quantity": Quantity(col["quantity"]),
                "gross": Amount(amounts["brutto"][0], "gross", decimal_comma=True),
                "net": Amount(amounts["netto"][0], "net", decimal_comma=True),
                "currency": Constant(currency),
            },
        )
