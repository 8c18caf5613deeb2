"""Every API error has the shape {"error": {"code", "message", "details"}} and the right status."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from conftest import MakeCaller

pytestmark = pytest.mark.django_db


def _assert_shape(body: dict[str, object], code: str) -> None:
    assert set(body) == {"error"}
    error = body["error"]
    assert isinstance(error, dict)
    assert set(error) == {"code", "message", "details"}
    assert error["code"] == code
    assert error["message"]


def test_unknown_api_path_is_json_404(anonymous_client: APIClient) -> None:
    response = anonymous_client.get("/api/v1/no-such-thing/")
    assert response.status_code == 404
    _assert_shape(response.json(), "not_found")


def test_missing_object_and_malformed_id_are_404(make_caller: MakeCaller) -> None:
    caller = make_caller()
    for url in (
        "/api/v1/releases/00000000-0000-0000-0000-000000000000/",
        "/api/v1/releases/not-a-uuid/",
    ):
        response = caller.client.get(url)
        assert response.status_code == 404
        _assert_shape(response.json(), "not_found")


def test_malformed_json_is_400(make_caller: MakeCaller) -> None:
    caller = make_caller()
    response = caller.client.post("/api/v1/artists/", "{not json", content_type="application/json")
    assert response.status_code == 400
    _assert_shape(response.json(), "parse_error")


def test_unsupported_media_type_is_415(make_caller: MakeCaller) -> None:
    caller = make_caller()
    response = caller.client.post("/api/v1/artists/", "name=x", content_type="text/plain")
    assert response.status_code == 415
    _assert_shape(response.json(), "unsupported_media_type")


def test_method_not_allowed_is_405(make_caller: MakeCaller) -> None:
    caller = make_caller()
    response = caller.client.put("/api/v1/releases/", {}, format="json")
    assert response.status_code == 405
    _assert_shape(response.json(), "method_not_allowed")


def test_forbidden_role_is_403(make_caller: MakeCaller) -> None:
    viewer = make_caller(role="viewer")
    response = viewer.client.post("/api/v1/artists/", {"name": "A"}, format="json")
    assert response.status_code == 403
    _assert_shape(response.json(), "permission_denied")
    assert "viewer" in response.json()["error"]["message"]


def test_validation_error_lists_fields(make_caller: MakeCaller) -> None:
    caller = make_caller()
    response = caller.client.post("/api/v1/tracks/", {}, format="json")
    assert response.status_code == 400
    body = response.json()
    _assert_shape(body, "validation_error")
    assert {"release", "track_number", "title"} <= set(body["error"]["details"])


def test_non_api_404_stays_html(client) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/definitely-not-here/")
    assert response.status_code == 404
    assert not response["Content-Type"].startswith("application/json")
