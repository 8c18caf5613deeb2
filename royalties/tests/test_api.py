"""The royalties API end to end: upload, duplicates, queue and manual match, rates, splits,
statements with CSV and traces, earnings, tenancy."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from accounts.choices import Role
from royalties.choices import ReportStatus
from royalties.models import SalesLine, SalesReport
from royalties.tests import files
from royalties.tests.files import Sale


@pytest.fixture
def caller(make_caller, catalog):
    return make_caller(organization=catalog.organization)


def upload(caller, content: bytes, store="spotify", **params):
    query = "&".join(f"{k}={v}" for k, v in {"store": store, **params}.items())
    return caller.client.post(
        f"/api/v1/sales-reports/?{query}",
        {"file": SimpleUploadedFile("march.csv", content)},
        format="multipart",
    )


def test_upload_imports_and_a_duplicate_is_a_409(
    caller, catalog, django_capture_on_commit_callbacks
):
    content = files.canonical([Sale(catalog.track_a.isrc, "", "DE", "stream", 10, "1", "0.5")])
    with django_capture_on_commit_callbacks(execute=True):
        response = upload(caller, content, layout="canonical", period="2026-03")
    assert response.status_code == 201, response.json()
    report_id = response.json()["id"]
    detail = caller.client.get(f"/api/v1/sales-reports/{report_id}/").json()
    assert detail["status"] == ReportStatus.IMPORTED
    assert (detail["lines_loaded"], detail["lines_matched"], detail["period"]) == (1, 1, "2026-03")
    assert detail["accounting_period"] == "2026-03"

    again = upload(caller, content)
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "duplicate_report"
    assert again.json()["error"]["details"]["report_id"] == report_id
    assert SalesReport.objects.count() == 1

    lines = caller.client.get(f"/api/v1/sales-reports/{report_id}/lines/").json()["results"]
    assert [(x["line_number"], x["net"]) for x in lines] == [(2, "0.5000000000")]


def test_bad_upload_parameters_are_400_and_store_nothing(caller):
    response = upload(caller, b"what,is,this\n", store="unknownstore")
    assert response.status_code == 400
    assert "layout" in response.json()["error"]["details"]
    response = upload(caller, b"x", layout="nope")
    assert response.status_code == 400
    assert not SalesReport.objects.exists()


def test_unmatched_queue_and_manual_match(caller, catalog, django_capture_on_commit_callbacks):
    content = files.canonical(
        [
            Sale("USXYZ2600001", "", "DE", "stream", 3, "1", "0.25"),
            Sale("USXYZ2600001", "", "FR", "stream", 1, "1", "0.50"),
            Sale("USXYZ2600002", "", "FR", "stream", 1, "1", "0.75"),
        ]
    )
    with django_capture_on_commit_callbacks(execute=True):
        upload(caller, content, store="teststore")
    queue = caller.client.get("/api/v1/sales-lines/?matched=false").json()
    assert queue["count"] == 3
    assert [line["line_number"] for line in queue["results"]] == [2, 3, 4]
    backwards = caller.client.get("/api/v1/sales-lines/?ordering=-line_number").json()
    assert [line["line_number"] for line in backwards["results"]] == [4, 3, 2]
    line_id = queue["results"][0]["id"]
    assert caller.client.get("/api/v1/earnings/?group_by=track").json()["results"] == []
    products = caller.client.get("/api/v1/report-products/?matched=false").json()
    assert [(p["isrc"], p["lines"]) for p in products["results"]] == [
        ("USXYZ2600001", 2),
        ("USXYZ2600002", 1),
    ]

    # Matching a line matches its product: both lines of that ISRC in the report count.
    response = caller.client.post(
        f"/api/v1/sales-lines/{line_id}/match/", {"track": str(catalog.track_b.pk)}
    )
    assert response.status_code == 200, response.json()
    assert response.json()["release"] == str(catalog.release.pk)
    assert response.json()["matched_by_hand"] is True
    assert caller.client.get("/api/v1/sales-lines/?matched=false").json()["count"] == 1
    earnings = caller.client.get("/api/v1/earnings/?group_by=track").json()
    assert earnings["results"][0]["key"] == str(catalog.track_b.pk)
    assert earnings["results"][0]["amount_cents"] == "0.75"
    assert earnings["results"][0]["lines"] == 2
    again = caller.client.post(
        f"/api/v1/sales-lines/{line_id}/match/", {"track": str(catalog.track_a.pk)}
    )
    assert again.status_code == 409
    assert SalesLine.objects.get(pk=line_id).product.track_id == catalog.track_b.pk

    # The other product, through the products endpoint, to a release.
    other = products["results"][1]["id"]
    matched = caller.client.post(
        f"/api/v1/report-products/{other}/match/", {"release": str(catalog.release.pk)}
    )
    assert matched.status_code == 200, matched.json()
    assert matched.json()["track"] is None and matched.json()["lines"] == 1
    assert caller.client.get("/api/v1/report-products/?matched=false").json()["count"] == 0
    report = SalesReport.objects.get()
    assert report.lines_matched == 3
    missing = caller.client.post(f"/api/v1/report-products/{other}/match/", {})
    assert missing.status_code == 400


def test_statement_flow_with_csv_and_trace(caller, catalog, django_capture_on_commit_callbacks):
    api = caller.client
    alice = api.post("/api/v1/payees/", {"name": "Alice"}).json()["id"]
    bob = api.post("/api/v1/payees/", {"name": "Bob"}).json()["id"]
    bad = api.post(
        "/api/v1/splits/",
        {
            "track": str(catalog.track_a.pk),
            "valid_from": "2026-01-01",
            "shares": [{"payee": alice, "percent": "60"}, {"payee": bob, "percent": "30"}],
        },
    )
    assert bad.status_code == 400
    ok = api.post(
        "/api/v1/splits/",
        {
            "track": str(catalog.track_a.pk),
            "valid_from": "2026-01-01",
            "shares": [{"payee": alice, "percent": "70"}, {"payee": bob, "percent": "30"}],
        },
    )
    assert ok.status_code == 201, ok.json()
    rates = api.post(
        "/api/v1/exchange-rates/",
        {"rates": [{"currency": "USD", "month": "2026-03", "rate": "0.9"}]},
    )
    assert rates.status_code == 201, rates.json()
    content = files.canonical(
        [
            Sale(catalog.track_a.isrc, "", "US", "stream", 1000, "5", "4.00", currency="USD"),
            Sale(
                catalog.track_a.isrc, "", "US", "stream", 500, "2", "1.5555555555", currency="USD"
            ),
        ]
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert upload(caller, content).status_code == 201
    period = api.get("/api/v1/accounting-periods/").json()["results"][0]
    generated = api.post(f"/api/v1/accounting-periods/{period['id']}/statements/")
    assert generated.status_code == 200, generated.json()
    # (4.00 + 1.5555555555) x 0.9 = 4.99999999995 -> 5.00; Alice 3.50, Bob 1.50.
    by_payee = {s["payee_name"]: s for s in generated.json()}
    assert by_payee["Alice"]["earnings"] == "3.50"
    assert by_payee["Bob"]["earnings"] == "1.50"

    statement = api.get(f"/api/v1/statements/{by_payee['Alice']['id']}/").json()
    (line,) = statement["lines"]
    assert Decimal(line["group_total"]) == Decimal("4.99999999995")
    trace = api.get(f"/api/v1/statements/{statement['id']}/lines/{line['id']}/trace/").json()
    assert [t["line_number"] for t in trace["results"]] == [2, 3]

    exported = api.get(f"/api/v1/statements/{statement['id']}/csv/")
    assert exported.status_code == 200
    assert exported["Content-Type"] == "text/csv"
    rows = list(csv.reader(io.StringIO(b"".join(exported.streaming_content).decode())))
    assert rows[0][:2] == ["payee", "Alice"]
    assert rows[2][-2:] == ["3.50", "0.00"]
    assert ["closing_balance", "3.50"] in rows

    closed = api.post(f"/api/v1/accounting-periods/{period['id']}/close/")
    assert closed.status_code == 200 and closed.json()["is_closed"] is True
    assert api.post(f"/api/v1/accounting-periods/{period['id']}/statements/").status_code == 409
    assert api.get(f"/api/v1/statements/{statement['id']}/").json()["status"] == "final"


def test_earnings_grouping_and_filters(caller, catalog, import_file):
    import_file(
        catalog.organization,
        files.canonical(
            [
                Sale(catalog.track_a.isrc, "", "DE", "stream", 10, "1", "1.005"),
                Sale(catalog.track_b.isrc, "", "FR", "stream", 20, "1", "2.00"),
                Sale(catalog.track_b.isrc, "", "DE", "stream", 30, "1", "3.00"),
            ]
        ),
    )
    by_territory = caller.client.get("/api/v1/earnings/?group_by=territory").json()
    assert [(r["key"], r["amount_cents"], r["quantity"]) for r in by_territory["results"]] == [
        ("DE", "4.00", 40),
        ("FR", "2.00", 20),
    ]
    only_b = caller.client.get(f"/api/v1/earnings/?group_by=month&track={catalog.track_b.pk}")
    assert [(r["key"], r["amount_cents"]) for r in only_b.json()["results"]] == [
        ("2026-03", "5.00")
    ]
    assert caller.client.get("/api/v1/earnings/?group_by=nope").status_code == 400


def test_another_organization_sees_nothing(make_caller, catalog, import_file):
    report = import_file(
        catalog.organization,
        files.canonical(
            [
                Sale(catalog.track_a.isrc, "", "DE", "stream", 10, "1", "1"),
            ]
        ),
    )
    stranger = make_caller()
    assert stranger.client.get(f"/api/v1/sales-reports/{report.pk}/").status_code == 404
    assert stranger.client.get("/api/v1/sales-lines/").json()["count"] == 0
    assert stranger.client.get("/api/v1/earnings/?group_by=track").json()["results"] == []
    line = SalesLine.objects.get(product__report=report)
    response = stranger.client.post(
        f"/api/v1/sales-lines/{line.pk}/match/", {"track": str(catalog.track_a.pk)}
    )
    assert response.status_code == 404
    assert stranger.client.get("/api/v1/report-products/").json()["count"] == 0
    response = stranger.client.post(
        f"/api/v1/report-products/{line.product_id}/match/", {"track": str(catalog.track_a.pk)}
    )
    assert response.status_code == 404


def test_viewers_read_but_cannot_upload(make_caller, catalog):
    viewer = make_caller(organization=catalog.organization, role=Role.VIEWER)
    assert viewer.client.get("/api/v1/sales-reports/").status_code == 200
    assert upload(viewer, b"x").status_code == 403


def test_earnings_no_split_covers_are_listed_as_unallocated(
    caller, catalog, import_file, make_caller
):
    """Statements pay only tracks and releases with splits; the rest of the period's matched
    earnings is listed, to the cent, so that statements and unallocated add up to it all."""
    from realtime.models import Event
    from royalties.models import AccountingPeriod, Statement

    api = caller.client
    alice = api.post("/api/v1/payees/", {"name": "Alice"}).json()["id"]
    split = {"valid_from": "2026-01-01", "shares": [{"payee": alice, "percent": "100"}]}
    assert (
        api.post("/api/v1/splits/", {"track": str(catalog.track_a.pk), **split}).status_code == 201
    )
    import_file(
        catalog.organization,
        files.canonical(
            [
                Sale(catalog.track_a.isrc, "", "DE", "stream", 1000, "4.12", "3.0000000001"),
                Sale(catalog.track_b.isrc, "", "FR", "stream", 250, "1.00", "0.7512345678"),
                Sale(catalog.track_b.isrc, "", "FR", "stream", 5, "0.01", "0.0049"),
                Sale("", catalog.release.upc, "DE", "download", 2, "19.98", "13.99"),
            ]
        ),
    )
    period = AccountingPeriod.objects.get(organization=catalog.organization)
    url = f"/api/v1/accounting-periods/{period.pk}/unallocated/"

    generated = api.post(f"/api/v1/accounting-periods/{period.pk}/statements/")
    assert [s["earnings"] for s in generated.json()] == ["3.00"]
    event = Event.objects.get(type="statements.generated")
    assert event.data["unallocated"] == "14.75"

    stranger = make_caller()  # another organization's token: no such period there
    assert stranger.client.get(url).status_code == 404
    reader = make_caller(organization=catalog.organization, role=Role.VIEWER, scopes=("read",))
    response = reader.client.get(url)
    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["currency"], body["total"]) == ("EUR", "14.75")
    assert [
        (g["track"], g["release"], g["store"], g["territory"], g["quantity"], g["sales_lines"],
         Decimal(g["group_total"]), g["amount"])
        for g in body["groups"]
    ] == [
        (None, str(catalog.release.pk), "spotify", "DE", 2, 1, Decimal("13.99"), "13.99"),
        (str(catalog.track_b.pk), str(catalog.release.pk), "spotify", "FR", 255, 2,
         Decimal("0.7561345678"), "0.76"),
    ]  # fmt: skip
    paid = sum(Decimal(s.earnings) for s in Statement.objects.filter(period=period))
    assert paid + Decimal(body["total"]) == Decimal("3.00") + Decimal("0.76") + Decimal("13.99")

    # Splits for the release's own sales: those leave the list.
    assert (
        api.post("/api/v1/splits/", {"release": str(catalog.release.pk), **split}).status_code
        == 201
    )
    assert [g["amount"] for g in api.get(url).json()["groups"]] == ["0.76"]
    assert api.get(url).json()["total"] == "0.76"
    assert api.post(f"/api/v1/accounting-periods/{period.pk}/close/").status_code == 200
    assert Event.objects.get(type="accounting_period.closed").data["unallocated"] == "0.76"


def test_unallocated_needs_the_exchange_rates_statements_need(caller, catalog, import_file):
    import_file(
        catalog.organization,
        files.canonical([Sale(catalog.track_b.isrc, "", "US", "stream", 1, "1", "1", "USD")]),
    )
    period = caller.client.get("/api/v1/accounting-periods/").json()["results"][0]

    response = caller.client.get(f"/api/v1/accounting-periods/{period['id']}/unallocated/")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "missing_exchange_rates"
    assert response.json()["error"]["details"]["missing"] == ["USD 2026-03"]
