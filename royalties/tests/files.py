"""Sales-report files in every layout, built from the same sales for hand-checked totals."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Sale:
    isrc: str
    upc: str
    territory: str
    usage: str  # stream | download
    quantity: int
    gross: str
    net: str
    currency: str = "EUR"


def canonical(sales: list[Sale], month: str = "2026-03", store: str = "spotify") -> bytes:
    rows = ["store,period,territory,isrc,upc,usage_type,quantity,gross,net,currency"]
    rows += [
        f"{store},{month},{x.territory},{x.isrc},{x.upc},{x.usage},{x.quantity},{x.gross},"
        f"{x.net},{x.currency}"
        for x in sales
    ]
    return ("\n".join(rows) + "\n").encode()


def streaming_tsv(sales: list[Sale], month: str = "202603") -> bytes:
    head = "\t".join(
        [
            "Reporting Month",
            "Country Code",
            "ISRC",
            "EAN",
            "Product Type",
            "Units",
            "Gross Revenue",
            "Net Payable",
            "Currency",
        ]
    )
    kinds = {"stream": "Premium Stream", "download": "Download"}
    rows = [head] + [
        f"{month}\t{x.territory}\t{x.isrc}\t{x.upc}\t{kinds[x.usage]}\t{x.quantity}\t{x.gross}"
        f"\t{x.net}\t{x.currency}"
        for x in sales
    ]
    return ("\r\n".join(rows) + "\r\n").encode()


def european_csv(sales: list[Sale], date: str = "01.03.2026", currency: str = "EUR") -> bytes:
    head = (
        f"Datum;Land;ISRC;EAN;Nutzung;Anzahl;Umsatz brutto ({currency});Umsatz netto ({currency})"
    )
    rows = [head] + [
        f"{date};{x.territory};{x.isrc};{x.upc};{x.usage};{x.quantity};"
        f"{x.gross.replace('.', ',')};{x.net.replace('.', ',')}"
        for x in sales
    ]
    return ("\n".join(rows) + "\n").encode("utf-8-sig")


def download_store_csv(sales: list[Sale], date: str = "03/01/2026") -> bytes:
    head = (
        '"Begin Date","Country Of Sale","ISRC","UPC","Sale Type","Quantity","Customer Price",'
        '"Extended Partner Share","Partner Share Currency"'
    )
    rows = [head]
    for x in sales:
        kind = "D" if x.usage == "download" else "S"
        price = x.gross if x.quantity == 0 else str(_div(x.gross, x.quantity))
        rows.append(
            f'"{date}","{x.territory}","{x.isrc}","{x.upc}","{kind}","{x.quantity}","{price}",'
            f'"{x.net}","{x.currency}"'
        )
    return ("\n".join(rows) + "\n").encode()


def _div(amount: str, quantity: int) -> str:
    from decimal import Decimal

    return str(Decimal(amount) / quantity)


def ddex_dsr(
    sales: list[Sale],
    territory: str = "DE",
    currency: str = "EUR",
    footer: int | None = None,
    summary: bool = True,
) -> bytes:
    from decimal import Decimal

    kinds = {"stream": "OnDemandStream", "download": "PermanentDownload"}
    rows = [
        f"HEAD\tdsrf/3.0\tBasic\tMSG1\tPADPIDA0000000001\tPADPIDA0000000002\t2026-03-01\t2026-03-31\t{territory}\t{currency}"
    ]
    if summary:
        for usage in sorted({x.usage for x in sales}):
            of = [x for x in sales if x.usage == usage]
            total = sum((Decimal(x.net) for x in of), Decimal(0))
            rows.append(f"SY01\t{kinds[usage]}\t{sum(x.quantity for x in of)}\t{total}")
    rows += [
        f"DR01\t{x.isrc}\t{x.upc}\t{kinds[x.usage]}\t{x.quantity}\t{x.gross}\t{x.net}"
        for x in sales
    ]
    rows.append(f"FOOT\t{len(sales) if footer is None else footer}")
    return ("\n".join(rows) + "\n").encode()
