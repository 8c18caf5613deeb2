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
        # Column positions as locals: this loop runs once per line of million-line files.
        i_store, i_period, i_territory = col["store"], col["period"], col["territory"]
        i_isrc, i_upc, i_usage = col["isrc"], col["upc"], col["usage_type"]
        i_quantity, i_gross, i_net, i_currency = (
            col["quantity"], col["gross"], col["net"], col["currency"],
        )  # fmt: skip
        formats = ("%Y-%m", "%Y-%m-%d")
        amount, Row = base.amount, base.SaleRow
        for row in reader:
            number = reader.line_num
            if not any(row):
                continue
            try:
                if len(row) < width:
                    raise base.LineError(f"expected {width} fields, found {len(row)}")
                isrc, upc = base.identifiers(row[i_isrc], row[i_upc])
                yield Row(
                    number,
                    base.store(row[i_store], context.store),
                    base.month(row[i_period], formats),
                    base.territory(row[i_territory]),
                    isrc,
                    upc,
                    base.usage(row[i_usage], {}),
                    base.quantity(row[i_quantity]),
                    amount(row[i_gross], field="gross"),
                    amount(row[i_net], field="net"),
                    base.currency(row[i_currency]),
                )
            except base.LineError as exc:
                yield base.BadLine(number, str(exc))
