"""Importing every layout: lines, bad lines with numbers and reasons, matching, totals."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from distribution.tests.factories import valid_upc
from enterprise_suite.errors import Conflict, ValidationFailed
from realtime.models import Event
from royalties import selectors
from royalties.choices import ReportStatus
from royalties.models import ReportProduct, SalesLine, SalesReport
from royalties.parsers import layout_detect
from royalties.selectors import report_lines
from royalties.tests import files
from royalties.tests.conftest import rate
from royalties.tests.files import Sale

MARCH = dt.date(2026, 3, 1)


def sales(c) -> list[Sale]:
    return [
        Sale(c.track_a.isrc, "", "DE", "stream", 1000, "4.12", "3.0000000001"),
        Sale(c.track_b.isrc, "", "FR", "stream", 250, "1.00", "0.7512345678"),
        Sale("", c.release.upc, "DE", "download", 2, "19.98", "13.99"),
    ]


LAYOUT_FILES = {
    "canonical": lambda s: files.canonical(s),
    "streaming_tsv": lambda s: files.streaming_tsv(s),
    "european_csv": lambda s: files.european_csv(s),
    "download_store_csv": lambda s: files.download_store_csv(s),
    "ddex_dsr": lambda s: files.ddex_dsr(s, territory="DE"),
}


@pytest.mark.parametrize("layout", list(LAYOUT_FILES))
def test_each_layout_imports_matches_and_totals_to_the_cent(catalog, import_file, layout):
    content = LAYOUT_FILES[layout](sales(catalog))
    assert layout_detect(content.decode("utf-8-sig")).code == layout

    report = import_file(catalog.organization, content)

    assert report.status == ReportStatus.IMPORTED, report.error
    assert report.layout == layout
    assert (report.lines_total, report.lines_loaded, report.lines_bad) == (3, 3, 0)
    assert report.lines_matched == 3
    assert report.period == MARCH
    lines = list(report_lines(report))
    assert [line.product.track_id for line in lines] == [
        catalog.track_a.pk,
        catalog.track_b.pk,
        None,
    ]
    assert all(line.product.release_id == catalog.release.pk for line in lines)
    assert [line.usage_type for line in lines] == ["stream", "stream", "download"]
    assert lines[0].net == Decimal("3.0000000001")
    # Hand-computed: 3.0000000001 + 0.7512345678 + 13.99 = 17.7412345679 -> 17.74
    rows, missing = selectors.earnings(
        organization=catalog.organization, group_by="release", filters={}
    )
    assert missing == []
    assert rows[0].amount == Decimal("17.7412345679")
    assert rows[0].amount_cents == Decimal("17.74")
    assert rows[0].quantity == 1252
    statuses = list(
        Event.objects.filter(subject_id=report.pk).order_by("id").values_list("data__to", flat=True)
    )
    assert statuses == ["uploaded", "importing", "imported"]


def test_download_store_gross_is_price_times_quantity(catalog, import_file):
    report = import_file(catalog.organization, files.download_store_csv(sales(catalog)))
    line = SalesLine.objects.get(product__report=report, product__upc=catalog.release.upc)
    assert line.gross == Decimal("19.98")


def test_european_layout_reads_the_currency_from_the_headers(catalog, import_file):
    rate(catalog.organization, "CHF", MARCH, "1.05")
    report = import_file(catalog.organization, files.european_csv(sales(catalog), currency="CHF"))
    assert set(
        SalesLine.objects.filter(product__report=report).values_list("currency", flat=True)
    ) == {"CHF"}
    rows, _ = selectors.earnings(organization=catalog.organization, group_by="store", filters={})
    # 17.7412345679 CHF x 1.05 = 18.628296296295 EUR
    assert rows[0].amount == Decimal("18.628296296295")
    assert rows[0].amount_cents == Decimal("18.63")


def test_malformed_lines_are_reported_with_numbers_and_the_rest_imports(catalog, import_file):
    content = files.canonical(sales(catalog)).decode()
    content += "teststore,2026-03,DE,NOTANISRC,,stream,1,1,1,EUR\n"
    content += f"teststore,2026-13,DE,{catalog.track_a.isrc},,stream,1,1,1,EUR\n"
    content += f"teststore,2026-03,DE,{catalog.track_a.isrc},,stream,ten,1,1,EUR\n"
    content += f"teststore,2026-03,DE,{catalog.track_a.isrc},,stream,1,1,1.00000000001,EUR\n"
    content += "too,few\n"
    report = import_file(catalog.organization, content.encode())

    assert report.status == ReportStatus.IMPORTED
    assert (report.lines_total, report.lines_loaded, report.lines_bad) == (8, 3, 5)
    by_line = {e["line"]: e["reason"] for e in report.errors}
    assert set(by_line) == {5, 6, 7, 8, 9}
    assert "isrc" in by_line[5]
    assert "date" in by_line[6]
    assert "quantity" in by_line[7]
    assert "decimal places" in by_line[8]
    assert "fields" in by_line[9]


def test_unknown_currency_is_a_bad_line(catalog, import_file):
    bad = [Sale(catalog.track_a.isrc, "", "DE", "stream", 10, "1", "0.5", currency="XYZ")]
    report = import_file(catalog.organization, files.canonical(sales(catalog) + bad))
    assert report.lines_bad == 1
    assert report.errors == [{"line": 5, "reason": "currency: unknown currency 'XYZ'"}]


def test_a_known_currency_without_a_rate_is_named_in_earnings(catalog, import_file):
    usd = [Sale(catalog.track_a.isrc, "", "US", "stream", 10, "1", "0.5", currency="USD")]
    import_file(catalog.organization, files.canonical(sales(catalog) + usd))
    rows, missing = selectors.earnings(
        organization=catalog.organization, group_by="territory", filters={}
    )
    assert missing == ["USD 2026-03"]
    assert {r.key for r in rows} == {"DE", "FR"}


def test_too_many_bad_lines_rejects_the_report_whole(catalog, import_file, settings):
    settings.ROYALTIES_MAX_BAD_LINES = 1
    content = files.canonical(sales(catalog)).decode() + "x,y\nx,y\n"
    report = import_file(catalog.organization, content.encode())
    assert report.status == ReportStatus.REJECTED
    assert "bad lines" in report.error
    assert [e["line"] for e in report.errors] == [5, 6]
    assert not SalesLine.objects.filter(product__report=report).exists()
    assert not report.products.exists() and not SalesLine.objects.exists()


def test_truncated_dsr_is_rejected_and_leaves_nothing(catalog, import_file):
    report = import_file(catalog.organization, files.ddex_dsr(sales(catalog), footer=5))
    assert report.status == ReportStatus.REJECTED
    assert "FOOT counts 5" in report.error
    assert not SalesLine.objects.filter(product__report=report).exists()


def test_dsr_summary_mismatch_is_rejected(catalog, import_file):
    content = files.ddex_dsr(sales(catalog)).replace(
        b"SY01\tOnDemandStream\t1250", b"SY01\tOnDemandStream\t1251"
    )
    report = import_file(catalog.organization, content)
    assert report.status == ReportStatus.REJECTED
    assert "SY01" in report.error


def test_same_file_twice_is_refused_as_a_duplicate(catalog, import_file):
    content = files.canonical(sales(catalog))
    first = import_file(catalog.organization, content)
    with pytest.raises(Conflict) as caught:
        import_file(catalog.organization, content)
    assert caught.value.code == "duplicate_report"
    assert caught.value.details["report_id"] == str(first.pk)
    assert SalesReport.objects.count() == 1
    assert SalesLine.objects.count() == 3


def test_a_report_with_no_matches_waits_in_the_queue(catalog, import_file):
    strangers = [
        Sale("USXYZ2600001", "", "DE", "stream", 5, "1", "0.01"),
        Sale("", "0000000000017", "DE", "download", 1, "1", "0.70"),
    ]
    report = import_file(catalog.organization, files.canonical(strangers))
    assert report.status == ReportStatus.IMPORTED
    assert report.lines_matched == 0
    queue = selectors.sales_line_list(organization=catalog.organization).filter(
        product__release__isnull=True
    )
    assert queue.count() == 2
    rows, _ = selectors.earnings(organization=catalog.organization, group_by="track", filters={})
    assert rows == []


def test_undetectable_layout_is_refused_before_anything_is_stored(catalog, import_file):
    with pytest.raises(ValidationFailed):
        import_file(catalog.organization, b"what,is,this\n1,2,3\n")
    assert not SalesReport.objects.exists()


def test_other_organizations_catalog_never_matches(catalog, import_file):
    from accounts.tests.factories import OrganizationFactory

    other = OrganizationFactory()
    report = import_file(other, files.canonical(sales(catalog)))
    assert report.lines_matched == 0


MALFORMED = {
    "streaming_tsv": (
        lambda c: (
            files.streaming_tsv(sales(c))
            + f"2026-3\tDE\t{c.track_a.isrc}\t\tPremium Stream\t1\t1\t1\tEUR\r\n".encode()
        ),
        "date",
    ),
    "european_csv": (
        lambda c: (
            files.european_csv(sales(c))
            + f"01.03.2026;DE;{c.track_a.isrc};;stream;1;1,0;abc\n".encode()
        ),
        "net",
    ),
    "download_store_csv": (
        lambda c: (
            files.download_store_csv(sales(c))
            + f'"03/01/2026","DE","{c.track_a.isrc}","","X","1","1","1","EUR"\n'.encode()
        ),
        "usage type",
    ),
    "ddex_dsr": (
        lambda c: files.ddex_dsr(
            [*sales(c), Sale(c.track_a.isrc, "", "DE", "stream", 1, "1", "1")]
        ).replace(
            b"DR01\t" + c.track_a.isrc.encode() + b"\t\tOnDemandStream\t1\t",
            b"DR01\tBAD\t\tOnDemandStream\t1\t",
        ),
        "isrc",
    ),
}


@pytest.mark.parametrize("layout", list(MALFORMED))
def test_each_layout_reports_its_malformed_line(catalog, import_file, layout):
    build, reason = MALFORMED[layout]
    report = import_file(catalog.organization, build(catalog))
    assert report.status == ReportStatus.IMPORTED, report.error
    assert report.layout == layout
    assert (report.lines_loaded, report.lines_bad) == (3, 1)
    (error,) = report.errors
    assert reason in error["reason"]
    assert error["line"] == {"ddex_dsr": 7}.get(layout, 5)


def test_bad_lines_are_all_counted_though_only_the_first_are_listed(catalog, import_file, settings):
    settings.ROYALTIES_MAX_LISTED_ERRORS = 1
    header, *good = files.canonical(sales(catalog)).decode().splitlines(keepends=True)
    content = header + "x,y\n" * 3 + "".join(good)
    report = import_file(catalog.organization, content.encode())
    assert report.status == ReportStatus.IMPORTED
    assert (report.lines_loaded, report.lines_bad, report.lines_total) == (3, 3, 6)
    assert report.errors == [{"line": 2, "reason": "expected 10 fields, found 2"}]


def test_too_many_bad_lines_before_any_good_one_are_all_counted(catalog, import_file, settings):
    settings.ROYALTIES_MAX_LISTED_ERRORS = 1
    settings.ROYALTIES_MAX_BAD_LINES = 3
    header, *good = files.canonical(sales(catalog)).decode().splitlines(keepends=True)
    report = import_file(catalog.organization, (header + "x,y\n" * 6 + "".join(good)).encode())
    assert report.status == ReportStatus.REJECTED
    assert report.lines_bad == 4  # counted up to the one past the limit, not the one listed
    assert len(report.errors) == 1
    assert not SalesLine.objects.filter(product__report=report).exists()


def test_a_upc_matches_in_its_twelve_and_thirteen_digit_forms(catalog, import_file):
    """Stores report a UPC-A either as it is or as the EAN-13 with a leading zero."""
    upc = catalog.release.upc
    assert len(upc) == 12
    report = import_file(
        catalog.organization,
        files.canonical(
            [
                Sale("", f"0{upc}", "DE", "download", 1, "9.99", "6.99"),
                Sale("", upc, "FR", "download", 1, "9.99", "6.99"),
                Sale("", "0" + valid_upc(999_999), "FR", "download", 1, "9.99", "6.99"),
            ]
        ),
    )
    lines = list(report_lines(report))
    assert [line.product.release_id for line in lines] == [
        catalog.release.pk,
        catalog.release.pk,
        None,
    ]
    assert report.lines_matched == 2


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("teststore,2026-03,DE,{isrc},,stream,1,1E+15,1,EUR", "gross: too large"),
        ("teststore,2026-03,DE,{isrc},,stream,1,1,12345678901.5,EUR", "net: too large"),
        (
            "teststore,2026-03,DE,{isrc},,stream,1234567890123456789012,1,1,EUR",
            "quantity: too large",
        ),
        ("{long_store},2026-03,DE,{isrc},,stream,1,1,1,EUR", "store: longer than 50"),
    ],
    ids=["exponent", "integer-digits", "quantity", "store"],
)
def test_values_too_large_for_their_columns_are_bad_lines(catalog, import_file, line, reason):
    """Not a failed import: the database would refuse them, so the parser does, by line."""
    content = files.canonical(sales(catalog)).decode()
    content += line.format(isrc=catalog.track_a.isrc, long_store="s" * 51) + "\n"
    report = import_file(catalog.organization, content.encode())
    assert report.status == ReportStatus.IMPORTED
    assert report.lines_bad == 1 and report.lines_loaded == report.lines_total - 1
    assert reason in report.errors[0]["reason"]


def test_download_store_gross_too_large_is_a_bad_line(catalog, import_file):
    content = files.download_store_csv(
        [
            Sale(catalog.track_a.isrc, "", "US", "download", 2, "1.98", "1.40"),
            # 1,000,000 units at 100,000 each: 10^11, more than an amount column holds
            Sale(catalog.track_a.isrc, "", "US", "download", 1_000_000, "100000000000", "1"),
        ]
    )
    report = import_file(catalog.organization, content, store="itunes")
    assert report.status == ReportStatus.IMPORTED
    assert report.lines_bad == 1
    assert "gross: too large" in report.errors[0]["reason"]


def test_every_reader_loads_the_same_lines_and_products(catalog, import_file, settings):
    """The readers of ROYALTIES_IMPORT_READER (columns, the default; polars; lines) import
    the same lines, products and errors."""
    from accounts.tests.factories import OrganizationFactory
    from distribution.tests.factories import ReleaseFactory, TrackFactory

    content = files.canonical(sales(catalog)).decode()
    # A store with a character COPY text escapes.
    content += "back\\slash,2026-03,FR,USXYZ2699999,,stream,2,1,1,EUR\n"
    # A bad line whose ISRC/UPC pair is new: no product may be made for it.
    content += "teststore,2026-03,DE,NOTANISRC,,stream,1,1,1,EUR\ntoo,few\n"
    content += f"teststore,2026-13,DE,{catalog.track_a.isrc},0000000000000,stream,1,1,1,EUR\n"

    def outcome(report):
        lines = report_lines(report)
        products = ReportProduct.objects.filter(report=report)
        return (
            report.lines_total, report.lines_loaded, report.lines_matched, report.errors,
            [(line.line_number, line.store, line.sale_month, line.territory, line.usage_type,
              line.quantity, line.gross, line.net, line.currency, line.product.isrc,
              line.product.upc, line.product.release_id is not None) for line in lines],
            sorted((p.isrc, p.upc, p.lines, p.release_id is not None) for p in products),
        )  # fmt: skip

    outcomes = {}
    for reader in ("columns", "polars", "lines"):
        other = OrganizationFactory()
        release = ReleaseFactory(organization=other, upc=catalog.release.upc)
        for track in (catalog.track_a, catalog.track_b):
            TrackFactory(release=release, isrc=track.isrc, track_number=track.track_number)
        settings.ROYALTIES_IMPORT_READER = reader
        report = import_file(other, content.encode())
        assert report.status == ReportStatus.IMPORTED, reader
        outcomes[reader] = outcome(report)
    assert outcomes["columns"] == outcomes["polars"] == outcomes["lines"]
    total, loaded, matched, errors, lines, products = outcomes["columns"]
    assert (total - loaded, matched) == (3, 3)
    assert [error["line"] for error in errors] == [total - 1, total, total + 1]
    assert all(named > 0 for _isrc, _upc, named, _matched in products)
    assert [line[1] for line in lines if line[9] == "USXYZ2699999"] == ["back\\slash"]


def test_progress_is_reported_a_few_times_a_second_not_per_chunk(
    catalog, tmp_path, settings, monkeypatch
):
    """Chunks of the Python column reader are a few hundred lines: reporting each would be a
    cache write per chunk."""
    from royalties.parsers.columns import ColumnReader
    from royalties.services import reports

    settings.ROYALTIES_IMPORT_READER = "columns"
    monkeypatch.setattr(ColumnReader, "chunk_bytes", 200)  # a few lines per chunk
    monkeypatch.setattr(reports, "PROGRESS_SECONDS", 3600)
    content = files.canonical(sales(catalog) * 20)
    (tmp_path / "many.csv").write_bytes(content)
    report = reports.sales_report_upload_path_file(
        organization=catalog.organization,
        path=tmp_path / "many.csv",
        store_code="teststore",
        enqueue=False,
    )
    seen: list[int] = []
    reports.sales_report_import(report_id=report.pk, progress=seen.append)
    report.refresh_from_db()
    assert report.status == ReportStatus.IMPORTED
    assert content.count(b"\n") - 1 == report.lines_total > 20
    # The first chunk, then nothing for an hour, then the total at the end.
    assert len(seen) == 2 and seen[0] < seen[1] == report.lines_total


@pytest.mark.parametrize("reader", ["columns", "polars", "lines"])
def test_a_pair_in_any_spelling_is_one_product(catalog, import_file, settings, reader):
    """No unique index guards a report's (ISRC, UPC) pairs: the import gives each pair one
    product, whatever the spelling of its cells and however far apart its lines are."""
    settings.ROYALTIES_IMPORT_READER = reader
    isrc = catalog.track_a.isrc
    spelled = [isrc, isrc.lower(), f" {isrc[:2]}-{isrc[2:5]}-{isrc[5:7]}-{isrc[7:]} "]
    other = [Sale(catalog.track_b.isrc, "", "FR", "stream", 1, "1", "1")] * 500
    content = files.canonical(
        [Sale(spelling, "", "DE", "stream", 1, "1", "1") for spelling in spelled[:2]]
        + other
        + [Sale(spelled[2], "", "DE", "stream", 1, "1", "1")]
    )

    report = import_file(catalog.organization, content)

    assert report.status == ReportStatus.IMPORTED, report.error
    products = ReportProduct.objects.filter(report=report).order_by("id")
    assert [(p.isrc, p.upc, p.lines, p.track_id) for p in products] == [
        (isrc, "", 3, catalog.track_a.pk),
        (catalog.track_b.isrc, "", 500, catalog.track_b.pk),
    ]
    assert SalesLine.objects.filter(product=products[0]).count() == 3


def test_deleting_a_track_or_a_report_keeps_the_products_consistent(catalog, import_file):
    """Products' track and release are not checked by the database: Django clears them when
    the track or release is deleted, and deleting a report deletes its products and lines."""
    report = import_file(catalog.organization, files.canonical(sales(catalog)))
    assert report.status == ReportStatus.IMPORTED, report.error

    catalog.track_b.delete()

    products = {p.isrc or p.upc: p for p in ReportProduct.objects.filter(report=report)}
    assert products[catalog.track_b.isrc].track_id is None
    assert products[catalog.track_b.isrc].release_id == catalog.release.pk
    assert products[catalog.track_a.isrc].track_id == catalog.track_a.pk

    other = import_file(catalog.organization, files.canonical(sales(catalog), month="2026-04"))
    report.delete()

    assert not ReportProduct.objects.filter(report_id=report.pk).exists()
    assert SalesLine.objects.filter(product__report=other).count() == 3
    assert SalesLine.objects.count() == 3


def test_products_written_in_several_parts_are_all_there(catalog, import_file, monkeypatch):
    """The products' COPY is sent a few thousand rows at a time: every part arrives, the last
    one short."""
    monkeypatch.setattr("royalties.loading.PRODUCT_ROWS_PER_WRITE", 3)
    unknown = [f"QZXYZ26{number:05d}" for number in range(7)]
    content = files.canonical(
        [Sale(isrc, "", "DE", "stream", 1, "1", "1") for isrc in unknown for _ in range(2)]
        + sales(catalog)
    )

    report = import_file(catalog.organization, content)

    assert report.status == ReportStatus.IMPORTED, report.error
    products = ReportProduct.objects.filter(report=report)
    assert sorted((p.isrc or p.upc, p.lines) for p in products) == sorted(
        [(isrc, 2) for isrc in unknown]
        + [(catalog.track_a.isrc, 1), (catalog.track_b.isrc, 1), (catalog.release.upc, 1)]
    )
    assert report.lines_matched == 3


@pytest.mark.parametrize("reader", ["columns", "polars", "lines"])
def test_a_file_not_in_utf8_is_rejected_naming_the_line_and_what_to_do(
    catalog, import_file, settings, reader
):
    """A report re-saved by a spreadsheet in a Windows encoding: rejected whole, with where
    it stops being UTF-8 (the column readers know the line) and how to fix it."""
    settings.ROYALTIES_IMPORT_READER = reader
    text = files.canonical(sales(catalog)).decode()
    lines = text.splitlines(keepends=True)
    lines[2] = lines[2].replace("spotify", "Spötify")  # the file's line 3
    report = import_file(catalog.organization, "".join(lines).encode("cp1252"))

    assert report.status == ReportStatus.REJECTED
    assert report.error.startswith("The file is not UTF-8 text")
    assert report.error.endswith('Save it as UTF-8 (in Excel: "CSV UTF-8") and upload it again.')
    if reader != "lines":
        assert "line 3 has the byte 0xF6." in report.error
    assert not SalesLine.objects.exists()


def test_a_header_not_in_utf8_names_line_one(catalog, import_file):
    content = files.canonical(sales(catalog)).replace(b"store,", "störe,".encode("latin-1"), 1)

    report = import_file(catalog.organization, content, layout="canonical")

    assert report.status == ReportStatus.REJECTED
    assert "line 1 has the byte 0xF6." in report.error
