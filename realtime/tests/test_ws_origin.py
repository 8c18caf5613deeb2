"""The same-origin check of session WebSockets (`realtime.auth._same_origin`): the page's
Origin against the host the browser asked for, taken as HTTP requests take it."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize(
    ("use_forwarded_host", "headers", "same"),
    [
        (False, {"origin": "https://app.example.com", "host": "app.example.com"}, True),
        (False, {"origin": "https://evil.example", "host": "app.example.com"}, False),
        # Behind a proxy that rewrites Host: the forwarded host is the page's, when trusted.
        (True, {"origin": "https://app.example.com", "host": "10.0.1.7:8000",
                "x-forwarded-host": "app.example.com"}, True),
        (True, {"origin": "https://app.example.com", "host": "10.0.1.7:8000",
                "x-forwarded-host": "app.example.com, edge.internal"}, True),
        (True, {"origin": "https://evil.example", "host": "app.example.com",
                "x-forwarded-host": "app.example.com"}, False),
        (False, {"origin": "https://app.example.com", "host": "10.0.1.7:8000",
                 "x-forwarded-host": "app.example.com"}, False),
        (True, {"origin": "https://app.example.com", "host": "app.example.com"}, True),
        (True, {"host": "app.example.com", "x-forwarded-host": "app.example.com"}, False),
    ],
)  # fmt: skip
def test_same_origin_takes_the_host_as_http_requests_do(
    settings: object, use_forwarded_host: bool, headers: dict[str, str], same: bool
) -> None:
    from realtime.auth import _same_origin

    settings.USE_X_FORWARDED_HOST = use_forwarded_host  # type: ignore[attr-defined]
    scope = {"headers": [(k.encode(), v.encode()) for k, v in headers.items()]}
    assert _same_origin(scope) is same
