"""A task for the shutdown tests, loaded into a worker with `--include`; never in production.

It leaves a marker when it starts and when it finishes. On its first run it holds for
`seconds`; when redelivered (a start marker already exists) it finishes at once, so a test can
tell a requeued task from a lost one.
"""

from __future__ import annotations

import time
import uuid
from pathlib import Path

from celery import shared_task


@shared_task(name="tests.hold", acks_late=True)
def hold(marker_dir: str, seconds: float) -> str:
    directory = Path(marker_dir)
    redelivered = any(directory.glob("started-*"))
    (directory / f"started-{uuid.uuid4().hex}").touch()
    if not redelivered:
        time.sleep(seconds)
    (directory / f"finished-{uuid.uuid4().hex}").touch()
    return "held"
