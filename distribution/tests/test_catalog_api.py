"""Releases, tracks, artists and labels over the API."""

from __future__ import annotations

import datetime as dt

import pytest

from conftest import Caller, MakeCaller
from distribution.choices import ReleaseStatus
from distribution.models import Artist, Label, Release, ReleaseContributor, Track, TrackContributor
from distribution.tests.factories import (
    ArtistFactory,
    ReleaseFactory,
    TrackFactory,
    release_with_tracks,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def caller(make_caller: MakeCaller) -> Caller:
    return make_caller(role="manager")


def test_release_lifecycle_with_nested_read(caller: Caller) -> None:
    client = caller.client
    label = client.post(
        "/api/v1/labels/", {"name": "Nightfall", "p_line": "2026 N"}, format="json"
    ).json()
    artist = client.post("/api/v1/artists/", {"name": "Aurora Vale"}, format="json").json()
    guest = client.post("/api/v1/artists/", {"name": "Lena Marsh"}, format="json").json()
    created = client.post(
        "/api/v1/releases/",
        {
            "title": "Northern Lights",
            "release_type": "album",
            "upc": "036000291452",
            "label": label["id"],
            "release_date": "2027-03-05",
            "territories_include": ["ww"],
            "contributors": [
                {"artist": artist["id"], "role": "primary_artist"},
                {"artist": guest["id"], "role": "featured_artist"},
            ],
        },
        format="json",
    )
    assert created.status_code == 201, created.content
    release = created.json()
    assert release["status"] == "draft"
    assert release["label"] == {"id": label["id"], "name": "Nightfall"}
    assert release["territories_include"] == ["WW"]
    assert [(c["artist_name"], c["role"], c["sequence"]) for c in release["contributors"]] == [
        ("Aurora Vale", "primary_artist", 1),
        ("Lena Marsh", "featured_artist", 2),
    ]
    for number in (2, 1):
        track = client.post(
            "/api/v1/tracks/",
            {
                "release": release["id"],
                "track_number": number,
                "title": f"Song {number}",
                "isrc": f"USRC1760783{number}",
                "contributors": [{"artist": artist["id"], "role": "primary_artist"}],
            },
            format="json",
        )
        assert track.status_code == 201, track.content
    detail = client.get(f"/api/v1/releases/{release['id']}/").json()
    assert [t["track_number"] for t in detail["tracks"]] == [1, 2]
    assert detail["tracks"][0]["contributors"][0]["artist_name"] == "Aurora Vale"

    patched = client.patch(
        f"/api/v1/releases/{release['id']}/",
        {
            "title": "Northern Lights (Deluxe)",
            "contributors": [{"artist": guest["id"], "role": "primary_artist"}],
        },
        format="json",
    )
    assert patched.status_code == 200
    assert patched.json()["title"] == "Northern Lights (Deluxe)"
    assert [c["artist_name"] for c in patched.json()["contributors"]] == ["Lena Marsh"]
    assert patched.json()["upc"] == "036000291452"  # untouched by a partial update

    assert client.delete(f"/api/v1/releases/{release['id']}/").status_code == 204
    assert not Release.objects.exists()
    assert not Track.objects.exists()
    assert not ReleaseContributor.objects.exists() and not TrackContributor.objects.exists()


def test_only_drafts_change(caller: Caller) -> None:
    release = release_with_tracks(caller.organization, tracks=1)
    Release.objects.filter(pk=release.pk).update(status=ReleaseStatus.SUBMITTED)
    track = release.tracks.get()
    cases = [
        caller.client.patch(f"/api/v1/releases/{release.pk}/", {"title": "X"}, format="json"),
        caller.client.delete(f"/api/v1/releases/{release.pk}/"),
        caller.client.patch(f"/api/v1/tracks/{track.pk}/", {"title": "X"}, format="json"),
        caller.client.delete(f"/api/v1/tracks/{track.pk}/"),
        caller.client.post(
            "/api/v1/tracks/",
            {"release": str(release.pk), "track_number": 9, "title": "X"},
            format="json",
        ),
    ]
    for response in cases:
        assert response.status_code == 409, response.content
        assert response.json()["error"]["code"] == "invalid_transition"
    release.refresh_from_db()
    track.refresh_from_db()
    assert release.title != "X" and track.title != "X"
    assert release.tracks.count() == 1


def test_track_position_must_be_free(caller: Caller) -> None:
    track = TrackFactory(release__organization=caller.organization, track_number=1)
    response = caller.client.post(
        "/api/v1/tracks/",
        {"release": str(track.release_id), "track_number": 1, "title": "Dup"},
        format="json",
    )
    assert response.status_code == 400
    assert "track_number" in response.json()["error"]["details"]
    assert Track.objects.count() == 1


def test_contributor_from_another_organization_is_refused(
    caller: Caller, make_caller: MakeCaller
) -> None:
    foreign = ArtistFactory()
    response = caller.client.post(
        "/api/v1/releases/",
        {"title": "X", "contributors": [{"artist": str(foreign.pk), "role": "primary_artist"}]},
        format="json",
    )
    assert response.status_code == 400
    assert "contributors" in response.json()["error"]["details"]
    assert not Release.objects.exists()


def test_duplicate_credit_is_refused_and_nothing_is_written(caller: Caller) -> None:
    artist = ArtistFactory(organization=caller.organization)
    credit = {"artist": str(artist.pk), "role": "primary_artist"}
    response = caller.client.post(
        "/api/v1/releases/", {"title": "X", "contributors": [credit, credit]}, format="json"
    )
    assert response.status_code == 400
    assert not Release.objects.exists()


def test_artist_in_use_cannot_be_deleted(caller: Caller) -> None:
    release = release_with_tracks(caller.organization, tracks=1, credits=1)
    artist = release.contributors.get().artist
    response = caller.client.delete(f"/api/v1/artists/{artist.pk}/")
    assert response.status_code == 409
    assert Artist.objects.filter(pk=artist.pk).exists()
    label_response = caller.client.delete(f"/api/v1/labels/{release.label_id}/")
    assert label_response.status_code == 409
    assert Label.objects.filter(pk=release.label_id).exists()


def test_release_filters_and_ordering(caller: Caller) -> None:
    org = caller.organization
    early = ReleaseFactory(organization=org, title="Alpha", release_date=dt.date(2027, 1, 1))
    late = ReleaseFactory(organization=org, title="Omega", release_date=dt.date(2027, 6, 1))
    submitted = ReleaseFactory(organization=org, title="Beta Mix", status=ReleaseStatus.SUBMITTED)
    track = TrackFactory(release=late, isrc="USRC17607839")
    artist = ArtistFactory(organization=org)
    TrackFactory(release=early).contributors.create(artist=artist, role="remixer")

    def ids(query: str) -> list[str]:
        response = caller.client.get(f"/api/v1/releases/?{query}")
        assert response.status_code == 200, response.content
        return [r["id"] for r in response.json()["results"]]

    assert ids("status=submitted") == [str(submitted.pk)]
    assert set(ids("status=draft")) == {str(early.pk), str(late.pk)}
    assert ids(f"upc={early.upc}") == [str(early.pk)]
    assert ids(f"isrc={track.isrc.lower()}") == [str(late.pk)]
    assert ids(f"artist={artist.pk}") == [str(early.pk)]
    assert ids("release_date_after=2027-03-01") == [str(late.pk)]
    assert ids("release_date_before=2027-03-01") == [str(early.pk)]
    assert ids("q=mix") == [str(submitted.pk)]
    assert ids("ordering=title") == [str(early.pk), str(submitted.pk), str(late.pk)]
    assert ids("ordering=-release_date&status=draft") == [str(late.pk), str(early.pk)]
    bad = caller.client.get("/api/v1/releases/?status=nonsense")
    assert bad.status_code == 400
    assert "status" in bad.json()["error"]["details"]


def test_pagination(caller: Caller) -> None:
    for _ in range(7):
        ReleaseFactory(organization=caller.organization)
    first = caller.client.get("/api/v1/releases/?page_size=5").json()
    assert first["count"] == 7 and len(first["results"]) == 5 and first["next"]
    second = caller.client.get(first["next"]).json()
    assert len(second["results"]) == 2
    assert not {r["id"] for r in first["results"]} & {r["id"] for r in second["results"]}


def test_track_list_filters(caller: Caller) -> None:
    release = release_with_tracks(caller.organization, tracks=3, credits=1)
    other = release_with_tracks(caller.organization, tracks=2, credits=1)
    body = caller.client.get(f"/api/v1/tracks/?release={release.pk}").json()
    assert body["count"] == 3
    assert [t["track_number"] for t in body["results"]] == [1, 2, 3]
    assert all(t["contributors"] for t in body["results"])
    isrc = other.tracks.first().isrc  # type: ignore[union-attr]
    assert [
        t["isrc"] for t in caller.client.get(f"/api/v1/tracks/?isrc={isrc}").json()["results"]
    ] == [isrc]


def test_artist_and_label_crud(caller: Caller) -> None:
    created = caller.client.post(
        "/api/v1/artists/",
        {"name": "Oskar", "isni": "0000 0001 2103 2683", "store_ids": {"spotify": "abc"}},
        format="json",
    )
    assert created.status_code == 201
    assert created.json()["isni"] == "0000000121032683"
    url = f"/api/v1/artists/{created.json()['id']}/"
    assert (
        caller.client.patch(url, {"name": "Oskar Fjell"}, format="json").json()["name"]
        == "Oskar Fjell"
    )
    assert [a["name"] for a in caller.client.get("/api/v1/artists/?q=fjell").json()["results"]] == [
        "Oskar Fjell"
    ]
    assert caller.client.delete(url).status_code == 204
    label = caller.client.post("/api/v1/labels/", {"name": "Imprint"}, format="json")
    dup = caller.client.post("/api/v1/labels/", {"name": "Imprint"}, format="json")
    assert label.status_code == 201 and dup.status_code == 400
    assert Label.objects.count() == 1
