"""A download store's financial report (iTunes-style): comma-separated and quoted, US dates
(MM/DD/YYYY), a unit price and quantity rather than a gross total, and the partner share in
its own currency column."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from typing import TextIO

from royalties.parsers import base

COLUMNS = {
    "date": "Begin Date",
    "territory": "Country Of Sale",
    "isrc": "ISRC",
    "upc": "UPC",
    "usage_type": "Sale Type",
    "quantity": "Quantity",
    "price": "Customer Price",
    "net": "Extended Partner Share",
    "currency": "Partner Share Currency",
}
USAGE = {"d": "download", "download": "download", "s": "stream", "stream": "stream"}


class DownloadStoreCsv:
    code = "download_store_csv"
    description = (
        "Comma-separated, quoted; Begin Date (MM/DD/YYYY), Country Of Sale, ISRC, UPC, Sale "
        "Type (D/S), Quantity, Customer Price (per unit), Extended Partner Share, Partner Share "
        "Currency; gross = price x quantity."
    )

    def detect(self, head: str) -> bool:
        first = head.splitlines()[0] if head else ""
        return "extended partner share" in first.lower()

    def parse(
        self, stream: TextIO, context: base.ParseContext
    ) -> Iterator[base.SaleRow | base.BadLine]:
        reader = csv.reader(stream)
        header, col = base.read_header(reader, COLUMNS)

        def build(number: int, row: list[str]) -> base.SaleRow:
            isrc, upc = base.identifiers(row[col["isrc"]], row[col["upc"]])
            units = base.quantity(row[col["quantity"]])
            price = base.amount(row[col["price"]], field="customer price")
            return base.SaleRow(
                line_number=number,
                store=context.store,
                sale_month=base.month(row[col["date"]], ("%m/%d/%Y",)),
                territory=base.territory(row[col["territory"]]),
                isrc=isrc,
                upc=upc,
                usage_type=base.usage(row[col["usage_type"]], USAGE),
                quantity=units,
                gross=base.product(price, units, field="gross"),
                net=base.amount(row[col["net"]], field="net"),
                currency=base.currency(row[col["currency"]]),
            )

        yield from base.table_rows(reader, len(header), build)
