"""Both column-at-a-time readers (`columns`, in Python; `polars`) must give exactly what the
line-by-line parser gives: the same valid lines with the same values, the same bad lines with
the same reasons and numbers, whatever the mix of good and bad cells, quotes, line endings and
chunk boundaries."""

from __future__ import annotations

import datetime as dt
import io
import re
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from royalties.loading import _consecutive_texts
from royalties.parsers import LAYOUTS, base, chunks
from royalties.parsers.columns import ColumnReader, _all_plain
from royalties.parsers.frames import FrameReader
from royalties.parsers.table_file import PLAIN_AMOUNT, PLAIN_QUANTITY

ISRC, UPC = "USXYZ2600001", "036000291452"
CELLS = {
    "store": ["spotify", "", " padded ", "s" * 51, "back\\slash", "Foo Inc"],
    "period": ["2026-03", "2026-03-15", "2026-13", "03/2026", " 2026-03", "2026-02-30"],
    "territory": ["DE", "uk", "U1", "", "FR "],
    "isrc": [ISRC, ISRC.lower(), "US-XYZ-26-00001", "NOTANISRC", "", "USXYZ2600002"],
    "upc": ["", UPC, "123", f"0{UPC}"],
    "usage_type": ["stream", "Stream", "download", "bogus", ""],
    "quantity": ["1", "-3", "007", "1e3", "\u00b2", "1234567890123456789", "", "0"],
    "gross": ["0.25", "-0.0000000001", "1E+2", "12345678901", "1.00000000001", " 3", "", "5"],
    "net": ["0.1234567890", "2", "abc", "-0", ".5"],
    "currency": ["EUR", "usd", "XYZ", "", "GBP"],
}
FIELDS = list(CELLS)
VALID = {
    "store": ["spotify", "Foo Inc", " padded "],
    "period": ["2026-03", "2026-03-15"],
    "territory": ["DE", "uk"],
    "isrc": [ISRC, "USXYZ2600002", ""],
    "upc": ["", UPC],
    "usage_type": ["stream", "download"],
    "quantity": ["1", "007", "-3"],
    "gross": ["0.25", "5", "-0.0000000001"],
    "net": ["0.1234567890", "2"],
    "currency": ["EUR", "GBP", "usd"],
}
WHOLE_LINES = ["", ",,,,,,,,,", "too,few", "a,b,c,d,e,f,g,h,i,j,k"]


@st.composite
def _cell_lines(draw: Any) -> dict[str, str]:
    """Mostly valid cells (so the column path's fast lane is taken), some replaced by any
    of the edge cases."""
    cells = {name: draw(st.sampled_from(values)) for name, values in VALID.items()}
    if not cells["isrc"] and not cells["upc"]:
        cells["isrc"] = ISRC
    for name in draw(st.lists(st.sampled_from(FIELDS), max_size=2)):
        cells[name] = draw(st.sampled_from(CELLS[name]))
    return cells


cell_line = _cell_lines()
line = st.one_of(
    cell_line.map(lambda cells: ",".join(cells[name] for name in FIELDS)),
    cell_line.map(lambda cells: ",".join(cells[name] for name in FIELDS) + ",extra"),
    st.sampled_from(WHOLE_LINES),
    # A quoted store with the delimiter in it: the rest of the file is read by csv.
    cell_line.map(lambda c: '"Foo, Inc",' + ",".join(c[name] for name in FIELDS[1:])),
)


def canonical(lines: list[str], newline: str, bom: bool) -> bytes:
    text = newline.join([",".join(FIELDS), *lines]) + newline
    return (b"\xef\xbb\xbf" if bom else b"") + text.encode()


def row_path(layout: Any, content: bytes) -> dict[int, tuple[Any, ...]]:
    stream = io.TextIOWrapper(io.BytesIO(content), encoding="utf-8-sig", newline="")
    context = base.ParseContext(store="teststore")
    return {row.line_number: _outcome(row) for row in layout.parse(stream, context)}


def column_path(layout: Any, content: bytes, reader: str) -> dict[int, tuple[Any, ...]]:
    pairs: list[tuple[str, str]] = []

    def identify(isrc: str, upc: str) -> int:
        pairs.append((isrc, upc))
        return len(pairs) - 1

    out: dict[int, tuple[Any, ...]] = {}
    context = base.ParseContext(store="teststore")
    read = chunks.read_chunks(layout, io.BytesIO(content), context, identify, reader=reader)
    for chunk in read:
        for row in chunk.rows:
            assert row.line_number not in out
            out[row.line_number] = _outcome(row)
        checked: list[dict[str, Any]] = []
        if chunk.frame is not None:
            checked.extend(chunk.frame.iter_rows(named=True))
        if chunk.lines is not None:
            lines = chunk.lines
            columns = {"line_number": lines.numbers, "product_id": lines.product_ids}
            columns |= lines.fields
            assert {len(values) for values in columns.values()} == {len(lines)}
            checked.extend(dict(zip(columns, values, strict=True))
                           for values in zip(*columns.values(), strict=True))  # fmt: skip
        for values in checked:
            isrc, upc = pairs[int(values["product_id"])]  # text from the columns reader
            assert values["line_number"] not in out
            out[values["line_number"]] = (
                "ok",
                values["store"],
                dt.date.fromisoformat(values["sale_month"]),
                values["territory"],
                isrc,
                upc,
                values["usage_type"],
                int(values["quantity"]),
                Decimal(values["gross"]),
                Decimal(values["net"]),
                values["currency"],
            )
    return out


def _outcome(row: base.SaleRow | base.BadLine) -> tuple[Any, ...]:
    if isinstance(row, base.BadLine):
        return ("bad", row.reason)
    return ("ok", *row[1:])


@pytest.fixture
def small_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    # Chunk boundaries every few lines, so they fall everywhere.
    monkeypatch.setattr(ColumnReader, "chunk_bytes", 300)
    monkeypatch.setattr(FrameReader, "chunk_bytes", 300)


READERS = pytest.mark.parametrize("reader", ["columns", "polars"])


@READERS
@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    lines=st.lists(line, min_size=1, max_size=40),
    newline=st.sampled_from(["\n", "\r\n"]),
    bom=st.booleans(),
)
def test_columns_and_lines_agree_on_every_line(small_chunks, reader, lines, newline, bom):
    layout = LAYOUTS["canonical"]
    content = canonical(lines, newline, bom)
    expected = row_path(layout, content)
    assert column_path(layout, content, reader) == expected


@READERS
@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(lines=st.lists(cell_line, min_size=1, max_size=30))
def test_the_decimal_comma_and_tab_layouts_agree_too(small_chunks, reader, lines):
    for code, content in _other_layouts(lines):
        assert column_path(LAYOUTS[code], content, reader) == row_path(LAYOUTS[code], content)


def _other_layouts(lines: list[dict[str, str]]) -> list[tuple[str, bytes]]:
    """The same cells as a European CSV (decimal comma) and a streaming TSV file."""
    european = ["Datum;Land;ISRC;EAN;Nutzung;Anzahl;Umsatz brutto (EUR);Umsatz netto (EUR)"]
    tsv = ["Reporting Month\tCountry Code\tISRC\tEAN\tProduct Type\tUnits\tGross Revenue\t"
           "Net Payable\tCurrency"]  # fmt: skip
    for cells in lines:
        comma = {k: cells[k].replace(".", ",") for k in ("gross", "net")}
        european.append(
            f"01.03.2026;{cells['territory']};{cells['isrc']};{cells['upc']};"
            f"{cells['usage_type']};{cells['quantity']};{comma['gross']};{comma['net']}"
        )
        tsv.append(
            f"202603\t{cells['territory']}\t{cells['isrc']}\t{cells['upc']}\t"
            f"{cells['usage_type']}\t{cells['quantity']}\t{cells['gross']}\t{cells['net']}\t"
            f"{cells['currency']}"
        )
    return [(code, ("\n".join(text) + "\n").encode())
            for code, text in (("european_csv", european), ("streaming_tsv", tsv))]  # fmt: skip


@READERS
def test_every_edge_cell_is_read_as_the_row_path_reads_it(reader):
    """Each edge value of each field, once, among valid lines: the random tests above may
    not draw a given one, this does (an 11-digit amount accepted fails here every time)."""
    valid = {name: values[0] for name, values in VALID.items()}
    lines = [valid | {name: value} for name in FIELDS for value in CELLS[name]]
    canonical_file = canonical([",".join(c[name] for name in FIELDS) for c in lines], "\n", False)
    for code, content in [("canonical", canonical_file), *_other_layouts(lines)]:
        got = column_path(LAYOUTS[code], content, reader)
        assert got == row_path(LAYOUTS[code], content), code
        assert sum(outcome[0] == "bad" for outcome in got.values()) >= 10, code


@READERS
def test_a_quoted_line_break_keeps_the_line_numbers(small_chunks, reader):
    good = f"spotify,2026-03,DE,{ISRC},,stream,1,1,1,EUR"
    lines = [good] * 20 + [f'"Foo\nBar",2026-03,DE,{ISRC},,stream,1,1,1,EUR', good, "bad"]
    content = canonical(lines, "\n", bom=False)
    got = column_path(LAYOUTS["canonical"], content, reader)
    assert got == row_path(LAYOUTS["canonical"], content)
    assert got[23][1] == "Foo\nBar"  # numbered by the line it ends on, as csv counts
    assert got[24][0] == "ok" and got[25] == ("bad", "expected 10 fields, found 1")
    assert sorted(got) == [*range(2, 22), 23, 24, 25]


@READERS
def test_a_file_that_is_not_utf8_is_refused(reader):
    content = canonical([f"spotify,2026-03,DE,{ISRC},,stream,1,1,1,EUR"], "\n", False)
    with pytest.raises(base.ReportMalformed, match="line 3 has the byte 0xFF"):
        column_path(LAYOUTS["canonical"], content + b"\xff\xfe,bad\n", reader)


@READERS
def test_an_empty_file_or_header_only_file(reader):
    with pytest.raises(base.ReportMalformed, match="empty"):
        column_path(LAYOUTS["canonical"], b"", reader)
    assert column_path(LAYOUTS["canonical"], canonical([], "\n", bom=True), reader) == {}


@pytest.mark.parametrize("reader", ["columns", "polars", "lines"])
def test_polars_is_loaded_only_by_the_polars_reader(reader):
    """Only the polars reader loads polars (about 40 MB in a process)."""
    import os
    import subprocess
    import sys

    script = (
        "import io, sys, django; django.setup()\n"
        "from royalties.services import reports\n"
        "from royalties.parsers import LAYOUTS, base, chunks\n"
        "assert 'polars' not in sys.modules\n"
        f"data = {canonical([f'spotify,2026-03,DE,{ISRC},,stream,1,1,1,EUR'], chr(10), False)!r}\n"
        "read = chunks.read_chunks(LAYOUTS['canonical'], io.BytesIO(data),\n"
        f"    base.ParseContext(store='s'), lambda i, u: 1, reader={reader!r})\n"
        "assert sum(chunk.good for chunk in read) == 1\n"
        "print('polars' in sys.modules)\n"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env["DJANGO_SETTINGS_MODULE"] = "enterprise_suite.settings"
    done = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == str(reader == "polars")


def test_an_unknown_reader_is_refused():
    with pytest.raises(ValueError, match="Unknown reader 'fast'"):
        chunks.table_reader(LAYOUTS["canonical"], "fast")


def test_an_unknown_reader_setting_stops_the_process_at_start():
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env |= {"DJANGO_SETTINGS_MODULE": "enterprise_suite.settings", "ROYALTIES_IMPORT_READER": "x"}
    done = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode != 0
    assert "ROYALTIES_IMPORT_READER is 'x': polars, columns or lines." in done.stderr


NUMBER_CELL = st.text(alphabet="0123456789.,-\n 9²", max_size=24)


@pytest.mark.parametrize(("digits", "point"), [(18, None), (10, "."), (10, ",")])
@settings(max_examples=400, deadline=None)
@given(cells=st.lists(NUMBER_CELL, min_size=1, max_size=12))
def test_a_column_taken_at_once_as_plain_numbers_is_plain_cell_by_cell(digits, point, cells):
    """The numbers' one-pass check may send plain columns to the per-shape check, never
    take a column that has a cell the row path's pattern refuses."""
    cells = [cell.replace("\n", "") for cell in cells]  # a cell never holds a line break
    pattern = re.compile(PLAIN_QUANTITY if point is None else PLAIN_AMOUNT[point == ","])
    if _all_plain("\n".join(cells), len(cells), digits, point):
        assert all(pattern.fullmatch(cell) for cell in cells)


@pytest.mark.parametrize(
    ("cells", "digits", "point", "taken"),
    [
        (["1", "007", "123456789012345678"], 18, None, True),
        (["1234567890123456789"], 18, None, False),  # 19 digits
        (["0.25", "1234567890.0123456789"], 10, ".", True),
        (["5", "12"], 10, ".", True),  # whole amounts
        (["0.25", "5"], 10, ".", False),  # both forms: per shape
        (["12345678901.5"], 10, ".", False),
        (["1.12345678901"], 10, ".", False),
        (["5.", "0.5"], 10, ".", False),
        ([".5", "0.5"], 10, ".", False),
        (["1.2.3", "4"], 10, ".", False),
        (["0.5", ""], 10, ".", False),
        (["", "1"], 18, None, False),
        (["-3"], 18, None, False),  # a minus sign: per shape
        (["0,25"], 10, ".", False),
        (["0,25", "3,5"], 10, ",", True),
        (["\u00b2"], 18, None, False),  # a digit, not an ASCII one
    ],
)
def test_plain_number_columns_taken_at_once(cells, digits, point, taken):
    assert _all_plain("\n".join(cells), len(cells), digits, point) is taken


@pytest.mark.parametrize(
    ("start", "count"), [(0, 5), (995, 10), (998, 2004), (1 << 32, 450), ((7 << 32) + 999, 1)]
)
def test_consecutive_ids_are_written_as_their_numbers(start, count):
    assert _consecutive_texts(start, count) == [str(n) for n in range(start, start + count)]
