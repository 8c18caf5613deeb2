"""The command (with progress), rates loading, the drop-folder job, the admin pages, the
schedule registration, and the import on a real Celery worker."""

from __future__ import annotations

import datetime as dt
import os
import time
from decimal import Decimal
from io import StringIO

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage
from django.core.management import CommandError, call_command
from django.urls import reverse

from accounts.tests.factories import UserFactory
from enterprise_suite.schedules import PREFIXES, SCHEDULES
from royalties.choices import ReportStatus
from royalties.models import ExchangeRate, ReportProduct, SalesLine, SalesReport
from royalties.services.dropfolder import drop_storage, sales_reports_pick_up
from royalties.tests import files
from royalties.tests.files import Sale


def test_import_command_shows_progress_and_a_summary(catalog, tmp_path):
    path = tmp_path / "dsr.tsv"
    path.write_bytes(
        files.ddex_dsr([Sale(catalog.track_a.isrc, "", "DE", "stream", 7, "1", "0.7")])
    )
    out, err = StringIO(), StringIO()
    call_command(
        "import_sales_report",
        str(path),
        organization=catalog.organization.slug,
        store="deezer",
        stdout=out,
        stderr=err,
    )
    assert "imported (ddex_dsr); 1 lines loaded, 0 bad, 1 matched" in out.getvalue()
    assert "100.0%" in err.getvalue()
    with pytest.raises(CommandError, match="already been uploaded"):
        call_command(
            "import_sales_report",
            str(path),
            organization=catalog.organization.slug,
            store="deezer",
            stdout=out,
            stderr=err,
        )


def test_import_command_fails_on_a_rejected_report(catalog, tmp_path):
    path = tmp_path / "short.tsv"
    path.write_bytes(
        files.ddex_dsr([Sale(catalog.track_a.isrc, "", "DE", "stream", 7, "1", "0.7")], footer=3)
    )
    with pytest.raises(CommandError, match="FOOT counts 3"):
        call_command(
            "import_sales_report",
            str(path),
            organization=catalog.organization.slug,
            store="deezer",
            no_progress=True,
            stdout=StringIO(),
        )
    assert SalesReport.objects.get().status == ReportStatus.REJECTED
    assert not SalesLine.objects.exists()


def test_load_exchange_rates_is_all_or_nothing(catalog, tmp_path):
    good = tmp_path / "rates.csv"
    good.write_text("currency,month,rate\nUSD,2026-03,0.91\ngbp,2026-03,1.17\n")
    call_command(
        "load_exchange_rates", str(good), organization=catalog.organization.slug, stdout=StringIO()
    )
    assert ExchangeRate.objects.get(currency="GBP").rate == Decimal("1.17")
    bad = tmp_path / "bad.csv"
    bad.write_text("currency,month,rate\nCAD,2026-03,1.4\nXYZ,2026-03,2\n")
    with pytest.raises(CommandError, match="invalid"):
        call_command("load_exchange_rates", str(bad), organization=catalog.organization.slug)
    assert not ExchangeRate.objects.filter(currency="CAD").exists()


def _drop(catalog, storage):
    content = files.streaming_tsv([Sale(catalog.track_a.isrc, "", "DE", "stream", 5, "1", "0.5")])
    folder = f"{catalog.organization.slug}/spotify"
    storage.save(f"{folder}/march.tsv", ContentFile(content))
    storage.save(f"{folder}/copy.tsv", ContentFile(content))
    return folder


def test_drop_folder_job_uploads_archives_and_refuses_duplicates(catalog, tmp_path):
    storage = FileSystemStorage(location=str(tmp_path))
    folder = _drop(catalog, storage)
    old = time.time() - 600
    for name in ("copy.tsv", "march.tsv"):
        os.utime(tmp_path / folder / name, (old, old))
    storage.save(f"{folder}/still-writing.tsv", ContentFile(b"Reporting Month\t"))

    reports = sales_reports_pick_up(storage=storage)

    assert len(reports) == 1
    assert reports[0].layout == "streaming_tsv"
    assert reports[0].original_filename == "copy.tsv"
    assert reports[0].status == ReportStatus.UPLOADED  # its import is queued on commit
    assert storage.listdir(folder)[1] == ["still-writing.tsv"]
    assert storage.listdir(f"{folder}/archive")[1] == ["copy.tsv"]
    refused = sorted(storage.listdir(f"{folder}/refused")[1])
    assert refused == ["march.tsv", "march.tsv.reason.txt"]
    assert (
        "already been uploaded"
        in storage.open(f"{folder}/refused/march.tsv.reason.txt").read().decode()
    )
    assert sales_reports_pick_up(storage=storage) == []


def test_a_file_over_the_size_limit_is_refused_whatever_way_it_comes(catalog, tmp_path, settings):
    """The limit is the service's: the drop folder (and the admin) refuse it as the API does."""
    storage = FileSystemStorage(location=str(tmp_path))
    folder = _drop(catalog, storage)
    old = time.time() - 600
    for name in ("copy.tsv", "march.tsv"):
        os.utime(tmp_path / folder / name, (old, old))
    size = (tmp_path / folder / "march.tsv").stat().st_size
    settings.SALES_REPORT_MAX_BYTES = size - 1

    assert sales_reports_pick_up(storage=storage) == []

    assert not SalesReport.objects.exists()
    refused = sorted(storage.listdir(f"{folder}/refused")[1])
    assert refused == ["copy.tsv", "copy.tsv.reason.txt", "march.tsv", "march.tsv.reason.txt"]
    reason = storage.open(f"{folder}/refused/march.tsv.reason.txt").read().decode()
    assert "larger than" in reason


def test_drop_prefix_on_s3(catalog, settings):
    moto = pytest.importorskip("moto")
    import boto3

    settings.ROYALTIES_DROP_S3_BUCKET = "drops"
    settings.ROYALTIES_DROP_S3_PREFIX = "incoming"
    settings.AWS_S3_REGION_NAME = "us-east-1"
    with moto.mock_aws():
        client = boto3.client("s3", region_name="us-east-1")
        client.create_bucket(Bucket="drops")
        folder = _drop(catalog, drop_storage())
        reports = sales_reports_pick_up(settle=dt.timedelta(0))
        keys = {o["Key"] for o in client.list_objects_v2(Bucket="drops")["Contents"]}
    assert len(reports) == 1
    assert f"incoming/{folder}/archive/{reports[0].original_filename}" in keys
    assert not any(
        k.endswith(("/copy.tsv", "/march.tsv")) and "/archive/" not in k and "/refused/" not in k
        for k in keys
    )


def test_schedule_is_registered():
    assert "royalties: " in PREFIXES
    assert any(s.task == "royalties.sales_reports_pick_up" for s in SCHEDULES)


def test_admin_pages_show_reports_and_the_queue(catalog, import_file, client):
    report = import_file(
        catalog.organization,
        files.canonical(
            [
                Sale("USXYZ2600001", "", "DE", "stream", 3, "1", "0.25"),
            ]
        )
        + b"bad,line\n",
    )
    admin = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(admin)
    page = client.get(reverse("admin:royalties_salesreport_change", args=[report.pk]))
    assert page.status_code == 200
    assert b"line 3: expected 10 fields, found 2" in page.content
    product = ReportProduct.objects.get(report=report)
    queue = client.get(reverse("admin:royalties_unmatchedproduct_changelist"))
    assert b"USXYZ2600001" in queue.content
    form = client.post(
        reverse("admin:royalties_unmatchedproduct_changelist"),
        {"action": "match_products", "_selected_action": [product.pk]},
    )
    assert b"Match products" in form.content
    done = client.post(
        reverse("admin:royalties_unmatchedproduct_changelist"),
        {
            "action": "match_products",
            "_selected_action": [product.pk],
            "apply": "1",
            "track": str(catalog.track_a.pk),
        },
        follow=True,
    )
    assert b"Matched 1 product(s), 1 line(s)" in done.content
    product.refresh_from_db()
    assert product.track_id == catalog.track_a.pk and product.matched_by_hand


@pytest.mark.services
@pytest.mark.slow
def test_upload_is_imported_by_a_real_worker(celery_worker_process, make_caller):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from accounts.tests.factories import OrganizationFactory
    from distribution.tests.factories import ReleaseFactory, TrackFactory

    organization = OrganizationFactory()
    track = TrackFactory(release=ReleaseFactory(organization=organization))
    caller = make_caller(organization=organization)
    content = files.canonical([Sale(track.isrc, "", "DE", "stream", 9, "1", "0.9")])
    response = caller.client.post(
        "/api/v1/sales-reports/?store=teststore",
        {"file": SimpleUploadedFile("r.csv", content)},
        format="multipart",
    )
    assert response.status_code == 201
    report_id = response.json()["id"]
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        status = caller.client.get(f"/api/v1/sales-reports/{report_id}/").json()["status"]
        if status in ("imported", "rejected", "failed"):
            break
        time.sleep(0.2)
    assert status == "imported", celery_worker_process.log()
    assert SalesLine.objects.get(product__report_id=report_id).product.track_id == track.pk
    assert dt.date(2026, 3, 1) == SalesReport.objects.get(pk=report_id).period
