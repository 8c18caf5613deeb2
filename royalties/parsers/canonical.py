"""Our own CSV layout: comma-separated, ISO months, decimal point, a currency column."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from typing import TextIO

from royalties.parsers import base

HEADER = ["store", "period", "territory", "isrc", "upc", "usage_type", "quantity", "gross", "net",
          "currency"]  # fmt: skip


class CanonicalCsv:
    code = "canonical"
    description = (
        "Comma-separated; header store,period,territory,isrc,upc,usage_type,quantity,gross,"
        "net,currency; period YYYY-MM; decimal point."
    )

    def detect(self, head: str) -> bool:
        first = head.splitlines()[0] if head else ""
        return [c.strip().lower() for c in first.split(",")] == HEADER

    def parse(
        self, stream: TextIO, context: base.ParseContext
    ) -> Iterator[base.SaleRow | base.BadLine]:
        reader = csv.reader(stream)
        header = next(reader, None)
        if header is None:
            raise base.ReportMalformed("The file is empty.")
        col = base.header_map(header, {name: name for name in HEADER})
        width = len(header)
        for row in reader:
            number = reader.line_num
            if not any(row):
                continue
            try:
                base.cells(row, width)
                isrc, upc = base.identifiers(row[col["isrc"]], row[col["upc"]])
                yield base.SaleRow(
                    line_number=number,
                    store=row[col["store"]].strip() or context.store,
                    sale_month=base.month(row[col["period"]], ("%Y-%m", "%Y-%m-%d")),
                    territory=base.territory(row[col["territory"]]),
                    isrc=isrc,
                    upc=upc,
                    usage_type=base.usage(row[col["usage_type"]], {}),
                    quantity=base.quantity(row[col["quantity"]]),
                    gross=base.amount(row[col["gross"]], field="gross"),
                    net=base.amount(row[col["net"]], field="net"),
                    currency=base.currency(row[col["currency"]]),
                )
            except base.LineError as exc:
                yield base.BadLine(number, str(exc))
