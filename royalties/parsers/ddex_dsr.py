"""The DDEX DSR flat-file shape: tab-separated records, each starting with its type.

    HEAD  version  profile  message-id  sender  recipient  period-start  period-end
          territory  currency
    SY01  usage-type  total-usages  total-net          (one summary per usage type)
    DR01  ISRC  UPC  usage-type  usages  gross  net      (one detail per resource and usage)
    FOOT  number-of-detail-records

Territory, currency and the sales month come from HEAD. The footer's count and the
summaries' totals are checked against the details; a mismatch rejects the file as truncated
or inconsistent (only when no detail line was bad, since a bad line cannot be totalled).
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from decimal import Decimal
from typing import TextIO

from royalties.parsers import base

USAGE = {"onDemandStream": "stream", "stream": "stream", "permanentDownload": "download",
         "download": "download", "userGeneratedContent": "ugc"}  # fmt: skip
USAGE_LOWER = {key.lower(): value for key, value in USAGE.items()}


class DdexDsr:
    code = "ddex_dsr"
    description = (
        "DDEX DSR flat file: tab-separated HEAD / SY01 summary / DR01 detail / FOOT records; "
        "territory, currency and period in HEAD."
    )

    def detect(self, head: str) -> bool:
        return head.startswith("HEAD\t")

    def parse(
        self, stream: TextIO, context: base.ParseContext
    ) -> Iterator[base.SaleRow | base.BadLine]:
        reader = csv.reader(stream, delimiter="\t", quoting=csv.QUOTE_NONE)
        head = next(reader, None)
        if head is None or not head or head[0] != "HEAD" or len(head) < 10:
            raise base.ReportMalformed("The first record must be HEAD with 10 fields.")
        try:
            sale_month = base.month(head[6], ("%Y-%m-%d",))
            territory = base.territory(head[8])
            currency = base.currency(head[9])
        except base.LineError as exc:
            raise base.ReportMalformed(f"HEAD: {exc}") from None
        summaries: dict[str, tuple[int, Decimal]] = {}
        totals: dict[str, tuple[int, Decimal]] = {}
        details = bad = 0
        footer: int | None = None
        for row in reader:
            number = reader.line_num
            if not any(row):
                continue
            kind = row[0]
            if footer is not None:
                raise base.ReportMalformed(f"Line {number}: a record after FOOT.")
            if kind == "FOOT":
                try:
                    footer = base.quantity(row[1] if len(row) > 1 else "")
                except base.LineError:
                    raise base.ReportMalformed(
                        f"Line {number}: FOOT needs a record count."
                    ) from None
                continue
            if kind == "SY01":
                try:
                    base.cells(row, 4)
                    summaries[base.usage(row[1], USAGE_LOWER)] = (
                        base.quantity(row[2]),
                        base.amount(row[3], field="total net"),
                    )
                except base.LineError as exc:
                    raise base.ReportMalformed(f"Line {number}: SY01 {exc}.") from None
                continue
            if kind != "DR01":
                details += 1
                bad += 1
                yield base.BadLine(number, f"unknown record type '{kind}'")
                continue
            details += 1
            try:
                base.cells(row, 7)
                isrc, upc = base.identifiers(row[1], row[2])
                usage_type = base.usage(row[3], USAGE_LOWER)
                sale = base.SaleRow(
                    line_number=number,
                    store=context.store,
                    sale_month=sale_month,
                    territory=territory,
                    isrc=isrc,
                    upc=upc,
                    usage_type=usage_type,
                    quantity=base.quantity(row[4]),
                    gross=base.amount(row[5], field="gross"),
                    net=base.amount(row[6], field="net"),
                    currency=currency,
                )
            except base.LineError as exc:
                bad += 1
                yield base.BadLine(number, str(exc))
                continue
            usages, net = totals.get(usage_type, (0, Decimal(0)))
            totals[usage_type] = (usages + sale.quantity, net + sale.net)
            yield sale
        if footer is None:
            raise base.ReportMalformed("No FOOT record: the file looks truncated.")
        if footer != details:
            raise base.ReportMalformed(
                f"FOOT counts {footer} detail records but the file has {details}."
            )
        if summaries and not bad and summaries != totals:
            raise base.ReportMalformed(
                "The SY01 summaries do not match the detail records' totals."
            )
