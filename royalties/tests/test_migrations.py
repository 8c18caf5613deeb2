"""Migration 0003 moves existing sales lines onto report products, losing none; after 0005
their line numbers, no longer stored, are read from their ids, to the same values."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from accounts.tests.factories import OrganizationFactory
from distribution.tests.factories import ReleaseFactory, TrackFactory
from royalties.models import SalesLine

BEFORE = [("royalties", "0002_split_unique_per_target")]
AFTER = [("royalties", "0003_report_products_narrow_sales_lines")]
UNSTORED_LINE_NUMBERS = [("royalties", "0005_faster_import_rows")]
MARCH, APRIL = dt.date(2026, 3, 1), dt.date(2026, 4, 1)


def _migrate(targets: list[tuple[str, str]]) -> object:
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    executor.loader.build_graph()
    return executor.loader.project_state(targets).apps


@pytest.mark.django_db(transaction=True)
def test_legacy_lines_become_products_and_narrow_lines() -> None:
    organization = OrganizationFactory()
    release = ReleaseFactory(organization=organization)
    track = TrackFactory(release=release)
    try:
        old = _migrate(BEFORE)
        period_model = old.get_model("royalties", "AccountingPeriod")  # type: ignore[attr-defined]
        march = period_model.objects.create(organization_id=organization.pk, month=MARCH)
        april = period_model.objects.create(organization_id=organization.pk, month=APRIL)
        report = old.get_model("royalties", "SalesReport").objects.create(  # type: ignore[attr-defined]
            organization_id=organization.pk, store_code="s", layout="canonical", checksum="c"
        )
        legacy = old.get_model("royalties", "SalesLine")  # type: ignore[attr-defined]
        common = {
            "report_id": report.pk,
            "organization_id": organization.pk,
            "store": "spotify",
            "sale_month": MARCH,
            "territory": "DE",
            "usage_type": "stream",
            "quantity": 1,
            "gross": Decimal("0.5000000001"),
            "currency": "EUR",
        }
        legacy.objects.bulk_create(
            [
                legacy(line_number=2, isrc=track.isrc, upc="", track_id=track.pk,
                       release_id=release.pk, period_id=march.pk, net=Decimal("1.25"),
                       **common),
                # The same unknown ISRC twice; one line was matched by hand after March closed.
                legacy(line_number=3, isrc="USXYZ2600001", upc="", period_id=march.pk,
                       net=Decimal("2"), **common),
                legacy(line_number=4, isrc="USXYZ2600001", upc="", track_id=track.pk,
                       release_id=release.pk, matched_by_hand=True, period_id=april.pk,
                       net=Decimal("3"), **common),
            ]
        )  # fmt: skip

        new = _migrate(AFTER)
        products = new.get_model("royalties", "ReportProduct").objects  # type: ignore[attr-defined]
        lines = new.get_model("royalties", "SalesLine").objects  # type: ignore[attr-defined]
        known = products.get(isrc=track.isrc)
        assert (known.track_id, known.period_id, known.lines) == (track.pk, march.pk, 1)
        by_hand = products.get(isrc="USXYZ2600001")
        assert (by_hand.track_id, by_hand.matched_by_hand, by_hand.period_id) == (
            track.pk,
            True,
            april.pk,
        )
        assert by_hand.lines == 2
        rows = list(lines.order_by("id").values_list("line_number", "product_id", "net", "gross"))
        assert rows == [
            (2, known.pk, Decimal("1.25"), Decimal("0.5000000001")),
            (3, by_hand.pk, Decimal("2"), Decimal("0.5000000001")),
            (4, by_hand.pk, Decimal("3"), Decimal("0.5000000001")),
        ]
        block = new.get_model("royalties", "SalesLineBlock").objects.get(report_id=report.pk)  # type: ignore[attr-defined]
        assert {pk >> 32 for pk in lines.values_list("id", flat=True)} == {block.pk}

        unstored = _migrate(UNSTORED_LINE_NUMBERS)
        lines = unstored.get_model("royalties", "SalesLine").objects  # type: ignore[attr-defined]
        ids = lines.order_by("id").values_list("id", flat=True)
        assert [SalesLine(id=pk).line_number for pk in ids] == [2, 3, 4]
    finally:
        _migrate(_latest())


def _latest() -> list[tuple[str, str]]:
    """Every app's last migration: the schema the other tests expect."""
    return MigrationExecutor(connection).loader.graph.leaf_nodes()
