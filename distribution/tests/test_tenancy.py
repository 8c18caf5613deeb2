"""Tenancy: an organization never sees or touches another's objects.

Organization B's owner token (all scopes) gets 404 on every object endpoint of A, A's rows
never appear in B's lists, and A's ids are refused as references in B's writes.
"""

from __future__ import annotations

from typing import Any

import pytest

from accounts.models import ApiToken, Membership, Organization
from conftest import Caller, MakeCaller
from distribution.models import Artist, Label, Release, Track
from distribution.tests.factories import release_with_tracks

pytestmark = pytest.mark.django_db

LISTS = ["organizations", "members", "tokens", "labels", "artists", "releases", "tracks"]
# Methods each detail endpoint offers (tokens are revoked, never edited or deleted; the
# organization itself is not deletable over the API).
NOT_OFFERED = {("tokens", "patch"), ("tokens", "delete"), ("organizations", "delete")}
DETAIL_CASES = [
    (resource, method)
    for resource in LISTS
    for method in ("get", "patch", "delete")
    if (resource, method) not in NOT_OFFERED
]


@pytest.fixture
def tenants(make_caller: MakeCaller) -> tuple[Caller, Caller, dict[str, Any]]:
    a = make_caller()
    b = make_caller()
    release = release_with_tracks(a.organization, tracks=2, credits=1)
    objects = {
        "organizations": a.organization,
        "members": a.membership,
        "tokens": a.token,
        "labels": release.label,
        "artists": release.contributors.get().artist,
        "releases": release,
        "tracks": release.tracks.first(),
    }
    release_with_tracks(b.organization, tracks=1, credits=1)
    for caller in (a, b):  # first use stamps last_used_at; do it before any snapshot
        caller.client.get("/api/v1/organizations/")
    return a, b, objects


def _snapshot() -> list[Any]:
    return [
        list(model.objects.order_by("pk").values())
        for model in (Organization, Membership, ApiToken, Label, Artist, Release, Track)
    ]


@pytest.mark.parametrize(("resource", "method"), DETAIL_CASES)
def test_other_organizations_objects_answer_404(
    tenants: tuple[Caller, Caller, dict[str, Any]], resource: str, method: str
) -> None:
    a, b, objects = tenants
    before = _snapshot()
    url = f"/api/v1/{resource}/{objects[resource].pk}/"
    response = getattr(b.client, method)(
        url, {"name": "hijacked", "title": "hijacked", "role": "viewer"}, format="json"
    )
    assert response.status_code == 404, (url, response.content)
    assert response.json()["error"]["code"] == "not_found"
    assert _snapshot() == before
    # The owner still reaches it.
    assert a.client.get(url).status_code == 200


def test_other_organizations_token_cannot_be_revoked(
    tenants: tuple[Caller, Caller, dict[str, Any]],
) -> None:
    _, b, objects = tenants
    response = b.client.post(f"/api/v1/tokens/{objects['tokens'].pk}/revoke/")
    assert response.status_code == 404
    objects["tokens"].refresh_from_db()
    assert objects["tokens"].revoked_at is None


@pytest.mark.parametrize("resource", LISTS)
def test_lists_never_show_other_organizations_rows(
    tenants: tuple[Caller, Caller, dict[str, Any]], resource: str
) -> None:
    _, b, objects = tenants
    body = b.client.get(f"/api/v1/{resource}/?page_size=200").json()
    ids = {row["id"] for row in body["results"]}
    assert str(objects[resource].pk) not in ids
    assert body["count"] >= 1  # B does see its own


def test_filters_with_foreign_ids_find_nothing(
    tenants: tuple[Caller, Caller, dict[str, Any]],
) -> None:
    _, b, objects = tenants
    release, artist = objects["releases"], objects["artists"]
    assert b.client.get(f"/api/v1/tracks/?release={release.pk}").json()["count"] == 0
    assert b.client.get(f"/api/v1/releases/?artist={artist.pk}").json()["count"] == 0
    assert b.client.get(f"/api/v1/releases/?upc={release.upc}").json()["count"] == 0


def test_foreign_ids_are_refused_as_references(
    tenants: tuple[Caller, Caller, dict[str, Any]],
) -> None:
    _, b, objects = tenants
    before = _snapshot()
    track = b.client.post(
        "/api/v1/tracks/",
        {"release": str(objects["releases"].pk), "track_number": 9, "title": "Intruder"},
        format="json",
    )
    assert track.status_code == 400
    assert "release" in track.json()["error"]["details"]
    release = b.client.post(
        "/api/v1/releases/",
        {
            "title": "Intruder",
            "label": str(objects["labels"].pk),
            "contributors": [{"artist": str(objects["artists"].pk), "role": "primary_artist"}],
        },
        format="json",
    )
    assert release.status_code == 400
    assert {"label", "contributors"} <= set(release.json()["error"]["details"])
    token = b.client.post(
        "/api/v1/tokens/",
        {"name": "x", "scopes": ["read"], "member": str(objects["members"].pk)},
        format="json",
    )
    assert token.status_code == 404
    assert _snapshot() == before


@pytest.mark.parametrize(("resource", "method"), sorted(NOT_OFFERED))
def test_methods_not_offered_answer_405_for_everyone(
    tenants: tuple[Caller, Caller, dict[str, Any]], resource: str, method: str
) -> None:
    a, b, objects = tenants
    url = f"/api/v1/{resource}/{objects[resource].pk}/"
    for caller in (a, b):
        response = getattr(caller.client, method)(url, {}, format="json")
        assert response.status_code == 405
        assert response.json()["error"]["code"] == "method_not_allowed"
