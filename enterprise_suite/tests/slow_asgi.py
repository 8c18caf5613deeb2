"""An ASGI app for the web server's drain test: answers after SLOW_APP_SECONDS, leaving a
marker file (SLOW_APP_MARKER) when a request has started."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Any


async def application(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    Path(os.environ["SLOW_APP_MARKER"]).touch()
    await asyncio.sleep(float(os.environ.get("SLOW_APP_SECONDS", "2")))
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"finished"})
