from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from accounts.tests.factories import OrganizationFactory
from distribution.tests.factories import ReleaseFactory, TrackFactory
from royalties.models import ExchangeRate, SalesReport
from royalties.services.reports import sales_report_import, sales_report_upload_path_file


@dataclass
class Catalog:
    organization: Any
    release: Any
    track_a: Any
    track_b: Any


@pytest.fixture
def catalog(db: None) -> Catalog:
    organization = OrganizationFactory(default_currency="EUR")
    release = ReleaseFactory(organization=organization)
    return Catalog(
        organization=organization,
        release=release,
        track_a=TrackFactory(release=release, track_number=1),
        track_b=TrackFactory(release=release, track_number=2),
    )


@pytest.fixture
def import_file(tmp_path: Path):
    counter = iter(range(10_000))

    def run(
        organization: Any, content: bytes, *, store: str = "teststore", **kwargs: Any
    ) -> SalesReport:
        path = tmp_path / f"report-{next(counter)}.txt"
        path.write_bytes(content)
        report = sales_report_upload_path_file(
            organization=organization, path=path, store_code=store, enqueue=False, **kwargs
        )
        sales_report_import(report_id=report.pk)
        report.refresh_from_db()
        return report

    return run


def rate(organization: Any, currency: str, month: dt.date, value: str) -> None:
    ExchangeRate.objects.create(
        organization=organization, currency=currency, month=month, rate=Decimal(value)
    )
