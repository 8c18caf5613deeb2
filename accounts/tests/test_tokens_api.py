"""Managing API tokens over the API: created once with the secret, listed without it, revoked."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import ApiToken
from conftest import MakeCaller

pytestmark = pytest.mark.django_db


def test_create_returns_secret_once_and_it_works(make_caller: MakeCaller) -> None:
    owner = make_caller()
    response = owner.client.post(
        "/api/v1/tokens/", {"name": "ci", "scopes": ["read"]}, format="json"
    )
    assert response.status_code == 201, response.content
    body = response.json()
    raw = body["token"]
    assert raw.startswith(f"es_{body['prefix']}_")
    assert body["scopes"] == ["read"]

    listed = owner.client.get("/api/v1/tokens/").json()["results"]
    assert {t["id"] for t in listed} >= {body["id"]}
    assert all("token" not in t and "secret_hash" not in t for t in listed)
    detail = owner.client.get(f"/api/v1/tokens/{body['id']}/").json()
    assert raw not in str(detail)

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert client.get("/api/v1/releases/").status_code == 200
    # A read-only token cannot write.
    assert client.post("/api/v1/artists/", {"name": "X"}, format="json").status_code == 403


def test_create_for_another_member(make_caller: MakeCaller) -> None:
    owner = make_caller()
    manager = make_caller(organization=owner.organization, role="manager")
    response = owner.client.post(
        "/api/v1/tokens/",
        {"name": "for manager", "scopes": ["read", "write"], "member": str(manager.membership.pk)},
        format="json",
    )
    assert response.status_code == 201
    assert ApiToken.objects.get(pk=response.json()["id"]).membership == manager.membership


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"name": "x", "scopes": []}, "scopes"),
        ({"name": "x", "scopes": ["superuser"]}, "scopes"),
        ({"scopes": ["read"]}, "name"),
        ({"name": "x", "scopes": ["read"], "member": "not-a-uuid"}, "member"),
    ],
)
def test_bad_input_names_the_field_and_creates_nothing(
    make_caller: MakeCaller, payload: dict[str, object], field: str
) -> None:
    owner = make_caller()
    before = ApiToken.objects.count()
    response = owner.client.post("/api/v1/tokens/", payload, format="json")
    assert response.status_code == 400
    assert field in response.json()["error"]["details"]
    assert ApiToken.objects.count() == before


def test_expiry_in_the_past_is_refused(make_caller: MakeCaller) -> None:
    owner = make_caller()
    past = (timezone.now() - dt.timedelta(days=1)).isoformat()
    response = owner.client.post(
        "/api/v1/tokens/", {"name": "x", "scopes": ["read"], "expires_at": past}, format="json"
    )
    assert response.status_code == 400
    assert "expires_at" in response.json()["error"]["details"]


def test_member_of_another_organization_cannot_get_a_token(make_caller: MakeCaller) -> None:
    owner = make_caller()
    stranger = make_caller()
    response = owner.client.post(
        "/api/v1/tokens/",
        {"name": "x", "scopes": ["read"], "member": str(stranger.membership.pk)},
        format="json",
    )
    assert response.status_code == 404
    assert not ApiToken.objects.filter(membership=stranger.membership, name="x").exists()


def test_revoke_is_idempotent_and_effective(make_caller: MakeCaller) -> None:
    owner = make_caller()
    victim = make_caller(organization=owner.organization, role="manager")
    url = f"/api/v1/tokens/{victim.token.pk}/revoke/"
    first = owner.client.post(url)
    assert first.status_code == 200
    assert first.json()["is_active"] is False
    second = owner.client.post(url)
    assert second.json()["revoked_at"] == first.json()["revoked_at"]
    assert victim.client.get("/api/v1/releases/").status_code == 401


def test_only_owner_and_admin_manage_tokens(make_caller: MakeCaller) -> None:
    owner = make_caller()
    for role in ("manager", "qc_reviewer", "viewer"):
        member = make_caller(organization=owner.organization, role=role)
        assert member.client.get("/api/v1/tokens/").status_code == 403
        response = member.client.post(
            "/api/v1/tokens/", {"name": "x", "scopes": ["read"]}, format="json"
        )
        assert response.status_code == 403
    admin = make_caller(organization=owner.organization, role="admin")
    assert admin.client.get("/api/v1/tokens/").status_code == 200
