"""Sales-report layouts: one module per layout, a registry by code, and detection.

An upload may name its layout; otherwise it is detected from the file's first line, and if
that fails, a store that always sends the same layout falls back to it (`STORE_LAYOUTS`).
"""

from __future__ import annotations

from royalties.parsers.base import (
    SAVE_AS_UTF8,
    BadLine,
    Layout,
    LineError,
    ParseContext,
    ReportMalformed,
    SaleRow,
)
from royalties.parsers.canonical import CanonicalCsv
from royalties.parsers.ddex_dsr import DdexDsr
from royalties.parsers.download_store_csv import DownloadStoreCsv
from royalties.parsers.european_csv import EuropeanCsv
from royalties.parsers.streaming_tsv import StreamingTsv

LAYOUTS: dict[str, Layout] = {
    layout.code: layout
    for layout in (CanonicalCsv(), StreamingTsv(), EuropeanCsv(), DownloadStoreCsv(), DdexDsr())
}
STORE_LAYOUTS = {
    "spotify": StreamingTsv.code,
    "deezer": EuropeanCsv.code,
    "apple": DownloadStoreCsv.code,
    "itunes": DownloadStoreCsv.code,
}


def layout_get(code: str) -> Layout | None:
    return LAYOUTS.get(code)


def layout_detect(head: str) -> Layout | None:
    """The layout whose signature the file's first line (or record) carries, if any."""
    text = head.lstrip("\ufeff")
    return next((layout for layout in LAYOUTS.values() if layout.detect(text)), None)


__all__ = [
    "LAYOUTS",
    "SAVE_AS_UTF8",
    "STORE_LAYOUTS",
    "BadLine",
    "Layout",
    "LineError",
    "ParseContext",
    "ReportMalformed",
    "SaleRow",
    "layout_detect",
    "layout_get",
]
