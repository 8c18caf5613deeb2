"""A streaming service's monthly TSV (Spotify-style): tab-separated, months as YYYYMM,
"Country Code", "EAN", product types "Stream"/"Download", a currency column per line."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from typing import TextIO

from royalties.parsers import base

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


class StreamingTsv:
    code = "streaming_tsv"
    description = (
        "Tab-separated; Reporting Month (YYYYMM), Country Code, ISRC, EAN, Product Type, "
        "Units, Gross Revenue, Net Payable, Currency; decimal point."
    )

    def detect(self, head: str) -> bool:
        first = head.splitlines()[0] if head else ""
        return "\t" in first and "reporting month" in first.lower()

    def parse(
        self, stream: TextIO, context: base.ParseContext
    ) -> Iterator[base.SaleRow | base.BadLine]:
        reader = csv.reader(stream, delimiter="\t", quoting=csv.QUOTE_NONE)
        header, col = base.read_header(reader, COLUMNS)

        def build(number: int, row: list[str]) -> base.SaleRow:
            isrc, upc = base.identifiers(row[col["isrc"]], row[col["upc"]])
            return base.SaleRow(
                line_number=number,
                store=context.store,
                sale_month=base.month(row[col["period"]], ("%Y%m",)),
                territory=base.territory(row[col["territory"]]),
                isrc=isrc,
                upc=upc,
                usage_type=base.usage(row[col["usage_type"]], USAGE),
                quantity=base.quantity(row[col["quantity"]]),
                gross=base.amount(row[col["gross"]], field="gross"),
                net=base.amount(row[col["net"]], field="net"),
                currency=base.currency(row[col["currency"]]),
            )

        yield from base.table_rows(reader, len(header), build)
