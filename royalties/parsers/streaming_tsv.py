"""A streaming service's monthly TSV (Spotify-style): tab-separated, months as YYYYMM,
"Country Code", "EAN", product types "Stream"/"Download", a currency column per line."""

from __future__ import annotations

import csv

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
    "period": "Reporting Month",
    "territory": "Country Code",
    "isrc": "ISRC",
    "upc": "EAN",
    "usage_type": "Product Type",
    "quantity": "Units",
    "gross": "Gross Revenue",
    "net": "Net Payable",
    "currency": "Currency",
}
USAGE = {"stream": "stream", "premium stream": "stream", "ad-supported stream": "stream",
         "download": "download", "video": "ugc"}  # fmt: skip


class StreamingTsv(TableLayout):
    code = "streaming_tsv"
    description = (
        "Tab-separated; Reporting Month (YYYYMM), Country Code, ISRC, EAN, Product Type, "
        "Units, Gross Revenue, Net Payable, Currency; decimal point."
    )
    delimiter = "\t"
    quoting = csv.QUOTE_NONE

    def detect(self, head: str) -> bool:
        first = head.splitlines()[0] if head else ""
        return "\t" in first and "reporting month" in first.lower()

    def plan(self, header: list[str], context: base.ParseContext) -> TablePlan:
        col = base.header_map(header, COLUMNS)
        return TablePlan(
            width=len(header),
            isrc=col["isrc"],
            upc=col["upc"],
            rules={
                "store": Constant(context.store),
                "sale_month": Cell(col["period"], month_check(("%Y%m",))),
                "territory": Cell(col["territory"], base.territory),
                "usage_type": Cell(col["usage_type"], usage_check(USAGE)),
                "quantity": Quantity(col["quantity"]),
                "gross": Amount(col["gross"], "gross"),
                "net": Amount(col["net"], "net"),
                "currency": Cell(col["currency"], base.currency),
            },
        )
