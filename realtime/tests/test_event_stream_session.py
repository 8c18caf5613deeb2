"""/ws/events/ with the admin panel's session instead of a token, on a real daphne: only for
same-origin pages, staff members of the organization asked for (or superusers)."""

from __future__ import annotations

import json

import pytest
from django.conf import settings
from django.test import Client
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from accounts.models import Organization, User
from accounts.tests.factories import MembershipFactory, OrganizationFactory
from conftest import RunningProcess
from realtime.consumers import CLOSE_UNAUTHENTICATED
from realtime.events import publish

pytestmark = [pytest.mark.services, pytest.mark.slow, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest) -> RunningProcess:
    """daphne with this process's SECRET_KEY (outside production each process draws its own),
    so the sessions signed in here are valid there."""
    monkeypatch.setenv("SECRET_KEY", settings.SECRET_KEY)
    running: RunningProcess = request.getfixturevalue("daphne_server")
    return running


def _session_cookie(user: User) -> str:
    client = Client()
    client.force_login(user)
    return f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"


def _user(email: str, organization: Organization | None, *, staff: bool = True) -> User:
    user = User.objects.create_user(email, "pw-12345678", is_staff=staff)
    if organization is not None:
        MembershipFactory(organization=organization, user=user, role="viewer")
    return user


def _closed_code(url: str, headers: dict[str, str]) -> int | None:
    with connect(url, additional_headers=headers) as ws, pytest.raises(ConnectionClosed) as closed:
        ws.recv(timeout=10)
    return closed.value.rcvd.code if closed.value.rcvd else None


def test_admin_session_streams_its_organization_from_the_same_origin(
    server: RunningProcess,
) -> None:
    host = f"127.0.0.1:{server.port}"
    mine, theirs = OrganizationFactory(), OrganizationFactory()
    member = _session_cookie(_user("viewer@session.test", mine))
    url = f"ws://{host}/ws/events/?organization={mine.pk}"
    same_origin = {"Origin": f"http://{host}", "Cookie": member}

    with connect(url, additional_headers=same_origin) as ws:
        ws.send(json.dumps({"type": "resume", "after": 0}))
        assert json.loads(ws.recv(timeout=10))["type"] == "resumed"
        for organization in (theirs, mine):
            publish(
                organization_id=organization.pk,
                type="release.status_changed",
                subject_type="release",
                subject_id=organization.pk,
                data={"to": str(organization.pk)},
            )
        event = json.loads(ws.recv(timeout=10))
        assert (event["type"], event["data"]["to"]) == ("release.status_changed", str(mine.pk))

    refused = {
        "another site's page": {"Origin": "http://evil.example", "Cookie": member},
        "no Origin": {"Cookie": member},
        "no session": {"Origin": f"http://{host}"},
        "a forged session": {
            "Origin": f"http://{host}",
            "Cookie": f"{settings.SESSION_COOKIE_NAME}=not-a-session",
        },
        "a member who is not staff": {
            "Origin": f"http://{host}",
            "Cookie": _session_cookie(_user("member@session.test", mine, staff=False)),
        },
    }
    for case, headers in refused.items():
        assert _closed_code(url, headers) == CLOSE_UNAUTHENTICATED, case
    other = f"ws://{host}/ws/events/?organization={theirs.pk}"
    assert _closed_code(other, same_origin) == CLOSE_UNAUTHENTICATED  # not a member there
    bad = f"ws://{host}/ws/events/?organization=not-a-uuid"
    assert _closed_code(bad, same_origin) == CLOSE_UNAUTHENTICATED
    assert _closed_code(f"ws://{host}/ws/events/", same_origin) == CLOSE_UNAUTHENTICATED

    # A superuser may follow any organization.
    root = User.objects.create_superuser("root@session.test", "pw-12345678")
    with connect(
        other, additional_headers={"Origin": f"http://{host}", "Cookie": _session_cookie(root)}
    ) as ws:
        ws.send(json.dumps({"type": "ping"}))
        assert json.loads(ws.recv(timeout=10))["type"] == "pong"
