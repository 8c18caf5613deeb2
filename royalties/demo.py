"""Royalties demo data for `manage.py seed_demo`: last month's sales report for a delivered
release (with one unknown ISRC and one malformed line, as real reports have), payees and
splits, a recoupable expense, a payment, an exchange rate and the period's draft statements."""

from __future__ import annotations

import datetime as dt
import tempfile
from decimal import Decimal
from pathlib import Path

from django.utils import timezone

from accounts.models import Organization
from distribution.models import Artist, Release
from royalties.models import SalesReport, Statement
from royalties.services.money import exchange_rates_set, expense_create, payee_create, splits_set
from royalties.services.payments import payment_record
from royalties.services.periods import accounting_period_for, first_of_month
from royalties.services.reports import sales_report_import, sales_report_upload_path_file
from royalties.services.statements import statements_generate

HEADER = "store,period,territory,isrc,upc,usage_type,quantity,gross,net,currency"
# (store, territory, usage, quantity, gross, net, currency) per track of the release.
SALES = [
    ("spotify", "DE", "stream", 48210, "192.84", "134.99", "EUR"),
    ("spotify", "US", "stream", 91544, "366.18", "256.32", "USD"),
    ("apple-music", "GB", "stream", 15020, "105.14", "73.60", "EUR"),
    ("apple-music", "US", "download", 212, "209.88", "146.92", "USD"),
    ("deezer", "FR", "stream", 20877, "83.51", "58.46", "EUR"),
]
USD_RATE = Decimal("0.92")


def _report_text(month: str, isrcs: list[str]) -> str:
    rows = [HEADER]
    for isrc in isrcs:
        for store, territory, usage, quantity, gross, net, currency in SALES:
            rows.append(
                f"{store},{month},{territory},{isrc},,{usage},{quantity},{gross},{net},{currency}"
            )
    # An ISRC nobody knows (waits in the unmatched queue) and a line a store cut short.
    rows.append(f"spotify,{month},SE,SEXYZ2699999,,stream,1200,4.80,3.36,EUR")
    rows.append(f"deezer,{month},BE,")
    return "\n".join(rows) + "\n"


def royalties_demo_seed(
    *, organization: Organization, release: Release, artist: Artist
) -> tuple[SalesReport, list[Statement]]:
    """Import last month's demo report for `release` and build that period's statements."""
    month = first_of_month(timezone.localdate() - dt.timedelta(days=timezone.localdate().day))
    exchange_rates_set(organization=organization, rates=[("USD", month, USD_RATE)])
    artist_payee = payee_create(
        organization=organization, name=artist.name, email="artist@demo.example", artist=artist
    )
    producer = payee_create(organization=organization, name="North Pole Production")
    tracks = list(release.tracks.order_by("track_number"))
    for track in tracks:
        splits_set(
            organization=organization,
            track=track,
            valid_from=month,
            shares=[(artist_payee, Decimal("80")), (producer, Decimal("20"))],
        )
    expense_create(
        organization=organization,
        release=release,
        description="Mastering",
        amount=Decimal("150.00"),
        incurred_on=month,
    )
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"demo-sales-{month:%Y-%m}.csv"
        path.write_text(_report_text(f"{month:%Y-%m}", [t.isrc for t in tracks]))
        report = sales_report_upload_path_file(
            organization=organization, path=path, store_code="demo-aggregator", enqueue=False
        )
    sales_report_import(report_id=report.pk)
    report.refresh_from_db()
    payment_record(  # an advance the producer was paid during the month
        organization=organization,
        payee=producer,
        amount=Decimal("100.00"),
        paid_on=month.replace(day=15),
        reference="Demo advance",
    )
    statements = statements_generate(
        period=accounting_period_for(organization=organization, month=month)
    )
    return report, statements
