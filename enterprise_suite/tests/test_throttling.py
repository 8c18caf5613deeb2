"""Per-token rate limits answer 429 with Retry-After, on the shared cache."""

from __future__ import annotations

import pytest

from accounts.throttling import TokenRateThrottle
from conftest import MakeCaller

pytestmark = pytest.mark.django_db


@pytest.fixture
def three_per_hour(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(TokenRateThrottle, "THROTTLE_RATES", {"token": "3/hour"})


def test_fourth_request_in_an_hour_is_429(make_caller: MakeCaller, three_per_hour: None) -> None:
    caller = make_caller()
    other = make_caller(organization=caller.organization)
    statuses = [caller.client.get("/api/v1/releases/").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    response = caller.client.get("/api/v1/releases/")
    assert response.status_code == 429
    assert 0 < int(response["Retry-After"]) <= 3600
    body = response.json()
    assert body["error"]["code"] == "throttled"
    assert body["error"]["details"]["retry_after_seconds"] > 0
    # Another token of the same organization has its own budget.
    assert other.client.get("/api/v1/releases/").status_code == 200
