"""Compressed sales reports (gzip, a zip of one file): imported as their text, by every
reader and every way in; duplicates by their text; damaged, ambiguous, encrypted or
oversized archives refused with the reason, with nothing stored or loaded."""

from __future__ import annotations

import gzip
import hashlib
import io
import zipfile
from decimal import Decimal
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command

from enterprise_suite.errors import Conflict, PayloadTooLarge, ValidationFailed
from royalties.choices import ReportStatus
from royalties.models import ReportProduct, SalesLine, SalesReport
from royalties.selectors import report_lines
from royalties.services.report_delete import sales_report_delete
from royalties.services.reports import sales_report_import
from royalties.tests import files
from royalties.tests.files import Sale


def _sales(catalog: Any) -> list[Sale]:
    return [
        Sale(catalog.track_a.isrc, "", "DE", "stream", 1000, "4.12", "3.0000000001"),
        Sale(catalog.track_b.isrc, "", "FR", "stream", 250, "1.00", "0.7512345678"),
        Sale("", catalog.release.upc, "DE", "download", 2, "19.98", "13.99"),
        Sale("USXYZ2600001", "", "SE", "stream", 5, "0.02", "0.01"),
    ]


def gzipped(text: bytes) -> bytes:
    return gzip.compress(text)


def zipped(*members: tuple[str, bytes], encrypted: bool = False) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members:
            archive.writestr(name, data)
    data = bytearray(buffer.getvalue())
    if encrypted:  # the flag an encrypting archiver sets (zipfile cannot encrypt)
        data[6] |= 0x1  # the first member's local header
        data[data.index(b"PK\x01\x02") + 8] |= 0x1  # and its central directory entry
    return bytes(data)


def _loaded(report: SalesReport) -> list[tuple[Any, ...]]:
    return [
        (line.line_number, line.territory, line.quantity, line.net, line.product.isrc,
         line.product.track_id)
        for line in report_lines(report)
    ]  # fmt: skip


@pytest.mark.parametrize("reader", ["columns", "polars", "lines"])
@pytest.mark.parametrize(
    "pack",
    [
        pytest.param(gzipped, id="gzip"),
        pytest.param(lambda text: zipped(("march.csv", text)), id="zip"),
        pytest.param(
            lambda text: zipped(("__MACOSX/._march.csv", b"\x00\x05"), ("march.csv", text)),
            id="zip-from-a-mac",
        ),
    ],
)
def test_a_compressed_report_imports_as_its_text_does(
    catalog: Any, import_file: Any, settings: Any, reader: str, pack: Any
) -> None:
    settings.ROYALTIES_IMPORT_READER = reader
    text = files.canonical(_sales(catalog))

    report = import_file(catalog.organization, pack(text))

    assert report.status == ReportStatus.IMPORTED, report.error
    assert report.layout == "canonical"  # detected from the text inside
    assert report.checksum == hashlib.sha256(text).hexdigest()
    assert (report.lines_total, report.lines_loaded, report.lines_matched) == (4, 4, 3)
    assert _loaded(report) == [
        (2, "DE", 1000, Decimal("3.0000000001"), catalog.track_a.isrc, catalog.track_a.pk),
        (3, "FR", 250, Decimal("0.7512345678"), catalog.track_b.isrc, catalog.track_b.pk),
        (4, "DE", 2, Decimal("13.99"), "", None),
        (5, "SE", 5, Decimal("0.01"), "USXYZ2600001", None),
    ]
    assert ReportProduct.objects.filter(report=report).count() == 4


def test_the_same_report_plain_and_compressed_is_a_duplicate(
    catalog: Any, import_file: Any
) -> None:
    text = files.streaming_tsv(_sales(catalog))
    first = import_file(catalog.organization, gzipped(text))
    assert first.layout == "streaming_tsv"

    for again in (text, zipped(("report.tsv", text)), gzip.compress(text, compresslevel=1)):
        with pytest.raises(Conflict) as caught:
            import_file(catalog.organization, again)
        assert caught.value.details["report_id"] == str(first.pk)
    assert SalesReport.objects.count() == 1
    assert SalesLine.objects.count() == 4


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (lambda text: gzipped(text)[:-30], "The gzip file is damaged"),
        (lambda text: gzipped(text)[:40] + b"\x00" * 60, "The gzip file is damaged"),
        (lambda text: b"PK\x03\x04" + text, "The zip file is damaged"),
        (lambda text: zipped(), "must hold exactly one report; this one holds 0 file(s)."),
        (
            lambda text: zipped(("march.csv", text), ("april.csv", text)),
            "this one holds 2 file(s): march.csv, april.csv.",
        ),
        (lambda text: zipped(("march.csv", text), encrypted=True), "encrypted (march.csv)"),
    ],
)
def test_an_unreadable_archive_is_refused_at_upload_and_nothing_is_stored(
    catalog: Any, import_file: Any, content: Any, reason: str
) -> None:
    with pytest.raises(ValidationFailed) as caught:
        import_file(catalog.organization, content(files.canonical(_sales(catalog))))

    assert reason in caught.value.message
    assert caught.value.details == {"file": [caught.value.message]}
    assert not SalesReport.objects.exists()
    assert not default_storage.exists("sales-reports")  # refused before it is stored


def test_a_report_expanding_past_the_limit_is_refused(
    catalog: Any, import_file: Any, settings: Any
) -> None:
    text = files.canonical(_sales(catalog) * 50)
    settings.SALES_REPORT_MAX_EXPANDED_BYTES = len(text) - 1

    with pytest.raises(PayloadTooLarge) as caught:
        import_file(catalog.organization, gzipped(text))

    assert "once decompressed" in caught.value.message
    assert caught.value.details == {"max_expanded_bytes": len(text) - 1}
    assert not SalesReport.objects.exists()
    settings.SALES_REPORT_MAX_EXPANDED_BYTES = len(text)
    assert import_file(catalog.organization, gzipped(text)).lines_loaded == 200


def test_a_stored_archive_damaged_before_its_import_is_rejected_whole(
    catalog: Any, import_file: Any, tmp_path: Path
) -> None:
    """The import reads the stored file again: if it no longer decompresses, the report is
    rejected with the reason, and no line or product of it is left."""
    from royalties.services.reports import sales_report_upload_path_file

    text = files.canonical(_sales(catalog) * 3000)  # several chunks before the damage
    path = tmp_path / "march.csv.gz"
    path.write_bytes(gzipped(text))
    report = sales_report_upload_path_file(
        organization=catalog.organization, path=path, store_code="spotify", enqueue=False
    )
    with default_storage.open(report.file.name, "rb") as stored:
        whole = stored.read()
    default_storage.delete(report.file.name)
    default_storage.save(report.file.name, io.BytesIO(whole[: len(whole) // 2]))

    sales_report_import(report_id=report.pk)

    report.refresh_from_db()
    assert report.status == ReportStatus.REJECTED
    assert "The gzip file is damaged" in report.error
    assert not SalesLine.objects.exists()
    assert not ReportProduct.objects.exists()


def test_the_api_the_command_and_the_drop_folder_take_compressed_reports(
    catalog: Any, make_caller: Any, tmp_path: Path, django_capture_on_commit_callbacks: Any
) -> None:
    from django.core.files.storage import FileSystemStorage

    from royalties.services.dropfolder import sales_reports_pick_up

    org = catalog.organization
    caller = make_caller(organization=org)
    march = files.canonical(_sales(catalog)[:1])
    with django_capture_on_commit_callbacks(execute=True):
        response = caller.client.post(
            "/api/v1/sales-reports/?store=spotify",
            {"file": SimpleUploadedFile("march.csv.gz", gzipped(march))},
            format="multipart",
        )
    assert response.status_code == 201, response.json()
    detail = caller.client.get(f"/api/v1/sales-reports/{response.json()['id']}/").json()
    assert (detail["status"], detail["lines_loaded"]) == (ReportStatus.IMPORTED, 1)
    raw_body = caller.client.post(
        "/api/v1/sales-reports/?store=spotify",
        data=gzipped(march)[:-20],
        content_type="application/gzip",
    )
    assert raw_body.status_code == 400
    assert raw_body.json()["error"]["message"].startswith("The gzip file is damaged")

    april = tmp_path / "april.zip"
    april.write_bytes(zipped(("april.csv", files.canonical(_sales(catalog), month="2026-04"))))
    out, err = StringIO(), StringIO()
    call_command("import_sales_report", str(april), organization=org.slug, store="spotify",
                 stdout=out, stderr=err)  # fmt: skip
    assert "imported (canonical); 4 lines loaded" in out.getvalue()
    assert "5/5 lines" in err.getvalue()  # the text's lines (and header), not the zip's

    broken = tmp_path / "broken.gz"
    broken.write_bytes(gzipped(march)[:-20])
    with pytest.raises(CommandError, match="The gzip file is damaged"):
        call_command("import_sales_report", str(broken), organization=org.slug, store="x",
                     stdout=out, stderr=err)  # fmt: skip

    drop = FileSystemStorage(location=str(tmp_path / "drop"))
    may = files.canonical(_sales(catalog), month="2026-05")
    drop.save(f"{org.slug}/spotify/may.csv.gz", io.BytesIO(gzipped(may)))
    drop.save(f"{org.slug}/spotify/may-again.zip", io.BytesIO(zipped(("may.csv", may))))
    import datetime as dt

    picked = sales_reports_pick_up(storage=drop, settle=dt.timedelta(0))

    assert [report.original_filename for report in picked] == ["may-again.zip"]
    refused = sorted(drop.listdir(f"{org.slug}/spotify/refused")[1])
    assert refused == ["may.csv.gz", "may.csv.gz.reason.txt"]  # the same text: a duplicate


@pytest.mark.parametrize(
    "layout", ["canonical", "streaming_tsv", "european_csv", "download_store_csv", "ddex_dsr"]
)
def test_every_layout_gzipped_loads_what_it_loads_plain(
    catalog: Any, import_file: Any, layout: str
) -> None:
    from royalties.tests.test_import import LAYOUT_FILES

    text = LAYOUT_FILES[layout](_sales(catalog)[:3])
    plain = import_file(catalog.organization, text)
    plain_lines = _loaded(plain)
    sales_report_delete(report=plain)  # the same text again would be a duplicate

    packed = import_file(catalog.organization, gzipped(text))

    assert (packed.status, packed.layout) == (ReportStatus.IMPORTED, layout), packed.error
    assert _loaded(packed) == plain_lines and len(plain_lines) == 3
