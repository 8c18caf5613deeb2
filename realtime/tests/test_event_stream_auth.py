"""/ws/events/ on a real daphne with a real WebSocket client: token auth and ping."""

from __future__ import annotations

import json

import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from accounts.services import token_revoke
from conftest import MakeCaller, RunningProcess
from realtime.consumers import CLOSE_UNAUTHENTICATED

pytestmark = [pytest.mark.services, pytest.mark.slow]


def _url(server: RunningProcess) -> str:
    return f"ws://127.0.0.1:{server.port}/ws/events/"


def test_header_token_connects_and_ping_echoes(
    daphne_server: RunningProcess, make_caller: MakeCaller
) -> None:
    caller = make_caller(role="viewer", scopes=("read",))
    with connect(
        _url(daphne_server), additional_headers={"Authorization": f"Bearer {caller.raw_token}"}
    ) as ws:
        ws.send(json.dumps({"type": "ping", "data": 42}))
        assert json.loads(ws.recv(timeout=10)) == {"type": "pong", "data": 42}
        ws.send("not json")
        error = json.loads(ws.recv(timeout=10))
        assert error["type"] == "error" and error["data"]["code"] == "malformed"
        ws.send(json.dumps({"type": "ping"}))  # still connected after a bad frame
        assert json.loads(ws.recv(timeout=10))["type"] == "pong"


def test_subprotocol_token_connects(daphne_server: RunningProcess, make_caller: MakeCaller) -> None:
    caller = make_caller()
    with connect(
        _url(daphne_server), subprotocols=[f"bearer.{caller.raw_token}", "events.v1"]
    ) as ws:
        assert ws.subprotocol == "events.v1"
        ws.send(json.dumps({"type": "ping"}))
        assert json.loads(ws.recv(timeout=10))["type"] == "pong"


@pytest.mark.parametrize("header", [None, "Bearer es_deadbeef_nope", "revoked"])
def test_bad_credentials_are_closed_with_4401(
    daphne_server: RunningProcess, make_caller: MakeCaller, header: str | None
) -> None:
    headers = {}
    if header == "revoked":
        caller = make_caller()
        token_revoke(token=caller.token)
        headers["Authorization"] = f"Bearer {caller.raw_token}"
    elif header:
        headers["Authorization"] = header
    with (
        connect(_url(daphne_server), additional_headers=headers) as ws,
        pytest.raises(ConnectionClosed) as closed,
    ):
        ws.recv(timeout=10)
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == CLOSE_UNAUTHENTICATED


def test_query_string_token_is_not_accepted(
    daphne_server: RunningProcess, make_caller: MakeCaller
) -> None:
    caller = make_caller()
    with (
        connect(_url(daphne_server) + f"?token={caller.raw_token}") as ws,
        pytest.raises(ConnectionClosed) as closed,
    ):
        ws.recv(timeout=10)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == CLOSE_UNAUTHENTICATED
