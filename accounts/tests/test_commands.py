"""Operator commands: create an organization, issue a token."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from rest_framework.test import APIClient

from accounts.choices import Role
from accounts.models import ApiToken, Membership, Organization

pytestmark = pytest.mark.django_db


def test_create_organization_then_issue_token_that_works() -> None:
    out = StringIO()
    call_command(
        "create_organization", "Nightfall Records", owner_email="boss@nightfall.test", stdout=out
    )
    organization = Organization.objects.get(slug="nightfall-records")
    assert Membership.objects.get(organization=organization).role == Role.OWNER

    out = StringIO()
    call_command(
        "issue_token",
        email="boss@nightfall.test",
        organization="nightfall-records",
        scopes="read",
        quiet=True,
        stdout=out,
    )
    raw = out.getvalue().strip()
    token = ApiToken.objects.get()
    assert token.scopes == ["read"]
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert client.get("/api/v1/organizations/").json()["results"][0]["name"] == "Nightfall Records"


def test_duplicate_slug_is_a_clear_error() -> None:
    call_command("create_organization", "A", owner_email="a@x.test", slug="dup", stdout=StringIO())
    with pytest.raises(CommandError, match="already exists"):
        call_command(
            "create_organization", "B", owner_email="b@x.test", slug="dup", stdout=StringIO()
        )
    assert Organization.objects.filter(slug="dup").count() == 1


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"email": "nobody@x.test", "organization": "acme"}, "not a member"),
        ({"email": "o@acme.test", "organization": "acme", "scopes": "root"}, "Scopes"),
        ({"email": "o@acme.test", "organization": "acme", "expires_in_days": 0}, "positive"),
    ],
)
def test_issue_token_errors(kwargs: dict[str, object], message: str) -> None:
    call_command(
        "create_organization", "Acme", owner_email="o@acme.test", slug="acme", stdout=StringIO()
    )
    with pytest.raises(CommandError, match=message):
        call_command("issue_token", stdout=StringIO(), **kwargs)
    assert not ApiToken.objects.exists()


def test_seed_demo_is_idempotent_and_prints_a_working_token(
    settings,
    tmp_path,
    django_capture_on_commit_callbacks,  # type: ignore[no-untyped-def]
    ddex_schema_dir,  # the approved demo release is delivered, so its message is validated
) -> None:
    settings.STORE_DROP_ROOT = str(tmp_path / "stores")
    with django_capture_on_commit_callbacks(execute=True):  # the approved release is delivered
        call_command("seed_demo", stdout=StringIO())
    out = StringIO()
    call_command("seed_demo", quiet=True, stdout=out)
    assert Organization.objects.filter(slug="demo-records").count() == 1
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {out.getvalue().strip()}")
    releases = client.get("/api/v1/releases/").json()
    assert releases["count"] == 4
    assert all(r["tracks"] for r in releases["results"])
    statuses = {r["title"]: r["status"] for r in releases["results"]}
    assert statuses == {
        "Northern Lights": "submitted",
        "Static Bloom": "draft",
        "Kairos": "draft",
        "Fjord Sessions": "delivered",
    }
    kairos = next(r for r in releases["results"] if r["title"] == "Kairos")
    report = client.get(f"/api/v1/releases/{kairos['id']}/validate/").json()
    assert {f["rule_id"] for f in report["findings"]} == {"audio.present"}
    fjord = next(r for r in releases["results"] if r["title"] == "Fjord Sessions")
    deliveries = client.get(f"/api/v1/deliveries/?release={fjord['id']}").json()["results"]
    assert sorted(d["store"] for d in deliveries) == ["apple-music", "deezer", "spotify"]
    assert {d["status"] for d in deliveries} == {"delivered"}
    assert len(list((tmp_path / "stores" / "spotify").glob("*/*/*.xml"))) == 1
    # Royalties: last month's report for the delivered release, with its two faulty lines.
    [sales_report] = client.get("/api/v1/sales-reports/").json()["results"]
    assert sales_report["status"] == "imported"
    assert sales_report["lines_bad"] == 1 and sales_report["errors"][0]["reason"]
    assert sales_report["lines_loaded"] == sales_report["lines_matched"] + 1
    unmatched = client.get("/api/v1/sales-lines/", {"matched": "false"}).json()["results"]
    assert [line["isrc"] for line in unmatched] == ["SEXYZ2699999"]
    statements = client.get("/api/v1/statements/").json()["results"]
    assert len(statements) == 2  # the artist and the producer
    roles = set(
        Membership.objects.filter(organization__slug="demo-records").values_list("role", flat=True)
    )
    assert roles == {"owner", "admin", "manager", "qc_reviewer", "viewer"}
