"""List and detail endpoints run a fixed number of queries whatever the page size."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from conftest import Caller, MakeCaller
from distribution.tests.factories import release_with_tracks

pytestmark = pytest.mark.django_db

# auth (token + last_used stamp at most once a minute), count, page ids, releases,
# release credits, tracks, track credits
MAX_LIST_QUERIES = 7


def _queries(caller: Caller, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = caller.client.get(url)
    assert response.status_code == 200, response.content
    return len(captured)


@pytest.fixture
def caller(make_caller: MakeCaller) -> Caller:
    caller = make_caller(role="viewer", scopes=("read",))
    caller.client.get("/api/v1/organizations/")  # stamp last_used_at now, like a warm client
    return caller


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/releases/?page_size={n}",
        "/api/v1/tracks/?page_size={n}",
        "/api/v1/artists/?page_size={n}",
    ],
)
def test_list_queries_do_not_grow_with_page_size(caller: Caller, url: str) -> None:
    release_with_tracks(caller.organization, tracks=2, credits=2)
    small = _queries(caller, url.format(n=1))
    for _ in range(12):
        release_with_tracks(caller.organization, tracks=4, credits=3)
    large = _queries(caller, url.format(n=50))
    assert large == small
    assert large <= MAX_LIST_QUERIES


def test_release_detail_queries_are_constant(caller: Caller) -> None:
    small = release_with_tracks(caller.organization, tracks=1, credits=1)
    big = release_with_tracks(caller.organization, tracks=25, credits=4)
    small_count = _queries(caller, f"/api/v1/releases/{small.pk}/")
    big_count = _queries(caller, f"/api/v1/releases/{big.pk}/")
    assert small_count == big_count <= MAX_LIST_QUERIES


def test_list_payload_is_complete(caller: Caller) -> None:
    release_with_tracks(caller.organization, tracks=3, credits=2)
    body = caller.client.get("/api/v1/releases/").json()
    release = body["results"][0]
    assert len(release["contributors"]) == 2
    assert len(release["tracks"]) == 3
    assert all(len(t["contributors"]) == 2 for t in release["tracks"])
