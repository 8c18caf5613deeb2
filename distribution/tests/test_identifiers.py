"""UPC/EAN, ISRC and ISNI checks: a clear 400 naming the field, and nothing written."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from conftest import MakeCaller
from distribution.identifiers import (
    normalize_isni,
    normalize_isrc,
    normalize_territories,
    normalize_upc,
)
from distribution.models import Artist, Release, Track
from distribution.tests.factories import ReleaseFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("036000291452", "036000291452"),
        ("4006381333931", "4006381333931"),
        ("0360-0029-1452", "036000291452"),
    ],
)
def test_upc_accepts_upc_a_and_ean_13(raw: str, expected: str) -> None:
    assert normalize_upc(raw) == expected


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("036000291453", "check digit: expected 2"),
        ("12345", "got 5"),
        ("03600029145A", "digits only"),
        ("96385074", "got 8"),
    ],
)
def test_upc_errors_say_what_is_wrong(raw: str, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        normalize_upc(raw)


def test_isrc_normalizes_and_checks() -> None:
    assert normalize_isrc("us-rc1-76-07839") == "USRC17607839"
    with pytest.raises(ValidationError, match="12 characters"):
        normalize_isrc("USRC176078")
    with pytest.raises(ValidationError, match="country code 'XX'"):
        normalize_isrc("XXRC17607839")
    with pytest.raises(ValidationError, match="7 digits"):
        normalize_isrc("USRC1760783A")


def test_isni_check_character() -> None:
    assert normalize_isni("0000 0001 2103 2683") == "0000000121032683"
    with pytest.raises(ValidationError, match="check"):
        normalize_isni("0000000121032684")


def test_territories() -> None:
    assert normalize_territories(["de", "FR", "DE", "ww"]) == ["DE", "FR", "WW"]
    with pytest.raises(ValidationError, match="XK1, Narnia"):
        normalize_territories(["DE", "XK1", "Narnia"])


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"title": "A", "upc": "036000291453"}, "upc"),
        ({"title": "A", "territories_include": ["DE", "ZZ"]}, "territories_include"),
        ({"title": "A", "release_type": "mixtape"}, "release_type"),
        ({"upc": "036000291452"}, "title"),
        ({"title": "A", "release_date": "next friday"}, "release_date"),
    ],
)
def test_release_create_bad_input(
    make_caller: MakeCaller, payload: dict[str, object], field: str
) -> None:
    caller = make_caller()
    response = caller.client.post("/api/v1/releases/", payload, format="json")
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert field in error["details"]
    assert field in error["message"]
    assert not Release.objects.exists()


def test_track_with_bad_isrc(make_caller: MakeCaller) -> None:
    caller = make_caller()
    release = ReleaseFactory(organization=caller.organization)
    response = caller.client.post(
        "/api/v1/tracks/",
        {"release": str(release.pk), "track_number": 1, "title": "T", "isrc": "USRC1760783"},
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["error"]["details"]["isrc"] == [
        "An ISRC has 12 characters (e.g. USRC17607839)."
    ]
    assert not Track.objects.exists()


def test_artist_with_bad_isni(make_caller: MakeCaller) -> None:
    caller = make_caller()
    response = caller.client.post(
        "/api/v1/artists/", {"name": "A", "isni": "0000000121032684"}, format="json"
    )
    assert response.status_code == 400
    assert "isni" in response.json()["error"]["details"]
    assert not Artist.objects.exists()


def test_upc_unique_per_organization_but_not_across(make_caller: MakeCaller) -> None:
    first = make_caller()
    second = make_caller()
    payload = {"title": "A", "upc": "036000291452"}
    assert first.client.post("/api/v1/releases/", payload, format="json").status_code == 201
    duplicate = first.client.post("/api/v1/releases/", payload, format="json")
    assert duplicate.status_code == 400
    assert duplicate.json()["error"]["details"]["upc"] == [
        "A release with this UPC already exists."
    ]
    assert second.client.post("/api/v1/releases/", payload, format="json").status_code == 201
    assert Release.objects.filter(upc="036000291452").count() == 2


def test_isrc_unique_per_organization(make_caller: MakeCaller) -> None:
    caller = make_caller()
    first = ReleaseFactory(organization=caller.organization)
    second = ReleaseFactory(organization=caller.organization)
    body = {"track_number": 1, "title": "T", "isrc": "USRC17607839"}
    ok = caller.client.post("/api/v1/tracks/", {**body, "release": str(first.pk)}, format="json")
    assert ok.status_code == 201
    dup = caller.client.post("/api/v1/tracks/", {**body, "release": str(second.pk)}, format="json")
    assert dup.status_code == 400
    assert "isrc" in dup.json()["error"]["details"]
    assert Track.objects.count() == 1
