"""Bearer-token authentication: what gets in, what is refused, what is stored."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import ApiToken
from accounts.services import token_revoke
from conftest import MakeCaller

pytestmark = pytest.mark.django_db

URL = "/api/v1/releases/"


def _client(header: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header)
    return client


def test_valid_token_authenticates_and_records_last_use(make_caller: MakeCaller) -> None:
    caller = make_caller()
    assert caller.token.last_used_at is None
    response = caller.client.get(URL)
    assert response.status_code == 200
    caller.token.refresh_from_db()
    assert caller.token.last_used_at is not None


def test_only_a_hash_of_the_secret_is_stored(make_caller: MakeCaller) -> None:
    caller = make_caller()
    row = ApiToken.objects.get(pk=caller.token.pk)
    assert caller.raw_token not in str(row.__dict__.values())
    assert row.secret_hash == hashlib.sha256(caller.raw_token.encode()).hexdigest()
    assert caller.raw_token.startswith(f"es_{row.prefix}_")


def test_missing_credentials_answer_401_with_challenge(anonymous_client: APIClient) -> None:
    response = anonymous_client.get(URL)
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert response.json()["error"]["code"] == "not_authenticated"


@pytest.mark.parametrize(
    "header",
    [
        "Bearer",
        "Bearer a b",
        "Bearer not-a-token",
        "Bearer es_deadbeef_wrongsecret",
    ],
)
def test_malformed_or_unknown_tokens_are_refused(header: str, make_caller: MakeCaller) -> None:
    make_caller()
    response = _client(header).get(URL)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "authentication_failed"


def test_right_prefix_wrong_secret_is_refused(make_caller: MakeCaller) -> None:
    caller = make_caller()
    forged = f"es_{caller.token.prefix}_{'x' * 43}"
    assert _client(f"Bearer {forged}").get(URL).status_code == 401


def test_revoked_token_is_refused(make_caller: MakeCaller) -> None:
    caller = make_caller()
    token_revoke(token=caller.token)
    response = caller.client.get(URL)
    assert response.status_code == 401
    assert "revoked" in response.json()["error"]["message"]


def test_expired_token_is_refused(make_caller: MakeCaller) -> None:
    caller = make_caller()
    ApiToken.objects.filter(pk=caller.token.pk).update(
        expires_at=timezone.now() - dt.timedelta(seconds=1)
    )
    response = caller.client.get(URL)
    assert response.status_code == 401
    assert "expired" in response.json()["error"]["message"]


def test_inactive_user_token_is_refused(make_caller: MakeCaller) -> None:
    caller = make_caller()
    user = caller.membership.user
    user.is_active = False
    user.save()
    assert caller.client.get(URL).status_code == 401


def test_removed_member_token_stops_working(make_caller: MakeCaller) -> None:
    owner = make_caller()
    viewer = make_caller(organization=owner.organization, role="viewer")
    assert viewer.client.get(URL).status_code == 200
    response = owner.client.delete(f"/api/v1/members/{viewer.membership.pk}/")
    assert response.status_code == 204
    assert viewer.client.get(URL).status_code == 401
