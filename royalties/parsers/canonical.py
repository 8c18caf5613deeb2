"""Our own CSV layout: comma-separated, ISO months, decimal point, a currency column."""

from __future__ import annotations

from royalties.parsers import base
from royalties.parsers.table import (
    Amount,
    Cell,
    Quantity,
    TableLayout,
    TablePlan,
    month_check,
    store_check,
    usage_check,
)

HEADER = ["store", "period", "territory", "isrc", "upc", "usage_type", "quantity", "gross", "net",
          "currency"]  # fmt: skip


class CanonicalCsv(TableLayout):
    code = "canonical"
    description = (
        "Comma-separated; header store,period,territory,isrc,upc,usage_type,quantity,gross,"
        "net,currency; period YYYY-MM; decimal point."
    )

    def detect(self, head: str) -> bool:
        first = head.splitlines()[0] if head else ""
        return [c.strip().lower() for c in first.split(",")] == HEADER

    def plan(self, header: list[str], context: base.ParseContext) -> TablePlan:
        col = base.header_map(header, {name: name for name in HEADER})
        return TablePlan(
            width=len(header),
            isrc=col["isrc"],
            upc=col["upc"],
            rules={
                "store": Cell(col["store"], store_check(context.store)),
                "sale_month": Cell(col["period"], month_check(("%Y-%m", "%Y-%m-%d"))),
                "territory": Cell(col["territory"], base.territory),
                "usage_type": Cell(col["usage_type"], usage_check({})),
                "quantity": Quantity(col["quantity"]),
                "gross": Amount(col["gross"], "gross"),
                "net": Amount(col["net"], "net"),
                "currency": Cell(col["currency"], base.currency),
            },
        )
