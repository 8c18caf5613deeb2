"""Peak memory growth of the web server while it receives a 200 MB WAV upload.

The issue's target: "uploading a 200 MB WAV keeps the server's peak memory growth under 50 MB".
This starts a real daphne (`enterprise_suite.asgi:application`, services profile) on a database
of its own (`enterprise_suite_upload_bench`, created and migrated if missing), Redis index 9,
a temporary MEDIA_ROOT and TMPDIR, and `CELERY_TASK_ALWAYS_EAGER=1`, so the analysis task runs in
the server process too (it reads the WAV's headers back from storage). It seeds an organization,
an owner token, a release and a track, writes a 200 MB 24-bit stereo 48 kHz WAV to disk, and
streams it from disk as the raw body of `PUT /api/v1/tracks/{id}/audio/` (1 MB chunks, declared
Content-Length). Before each measured upload it resets the kernel's peak-RSS mark of the daphne
process (`/proc/<pid>/clear_refs`, value 5) and reads VmRSS; afterwards it reads VmHWM. Peak
growth = VmHWM after - VmRSS before. A 2 MB upload measured the same way in the same run is the
baseline; a small upload first warms the server up (imports, connections, first request).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/enterprise_suite \\
        .venv/bin/python bench/upload_memory.py

Exit status: 0 after a measurement, whatever the figure; 1 if the server or an upload fails.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

if __package__ in (None, ""):  # run as `python bench/upload_memory.py`: make `bench` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (
    BIN,
    DEFAULT_DATABASE_URL,
    MB,
    BenchError,
    bench_environment,
    create_database,
    daphne_args,
    free_port,
    migrate,
    postgres_target,
    web_server,
    with_path,
)

DATABASE_NAME = "enterprise_suite_upload_bench"
REDIS_URL = "redis://127.0.0.1:6379/9"
CHUNK = MB
SAMPLE_RATE, BIT_DEPTH, CHANNELS = 48000, 24, 2
BYTES_PER_SECOND = SAMPLE_RATE * CHANNELS * BIT_DEPTH // 8
TARGET_MB = 50.0


@dataclass
class Measurement:
    name: str
    size: int
    seconds: float
    rss_before: int  # bytes
    hwm_after: int
    rss_after: int
    hwm_method: str
    asset: dict[str, Any]

    @property
    def peak_growth_mb(self) -> float:
        return (self.hwm_after - self.rss_before) / MB

    @property
    def retained_mb(self) -> float:
        return (self.rss_after - self.rss_before) / MB


# --- Environment, database, seed -----------------------------------------------------------


def server_environment(media_root: Path, server_tmp: Path) -> dict[str, str]:
    return bench_environment(
        "enterprise_suite.settings",
        {
            "DATABASE_URL": with_path(
                os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL, f"/{DATABASE_NAME}"
            ),
            "REDIS_URL": REDIS_URL,
            "CACHE_KEY_PREFIX": "upload-bench",
            "CHANNELS_PREFIX": "upload-bench",
            "CELERY_TASK_ALWAYS_EAGER": "1",
            "MEDIA_ROOT": str(media_root),
            "TMPDIR": str(server_tmp),  # the server's temporary copies of the body land here
            "API_RATE_LIMIT": "100000000/s",
        },
        unset=["AWS_STORAGE_BUCKET_NAME"],  # measure the filesystem storage
    )


def seed(env: dict[str, str]) -> tuple[str, str]:
    """A new organization with an owner token, a draft release and a track: (token, track id)."""
    os.environ.update(env)
    import uuid

    import django

    django.setup()
    from django.db import connections, transaction

    from accounts.choices import Role
    from accounts.models import Membership
    from accounts.services import organization_create, token_create
    from distribution import services

    suffix = uuid.uuid4().hex[:8]
    with transaction.atomic():
        organization = organization_create(
            name=f"Upload Bench {suffix}",
            owner_email="owner@upload-bench.example",
            slug=f"upload-bench-{suffix}",
        )
        owner = Membership.objects.get(organization=organization, role=Role.OWNER)
        _, token = token_create(membership=owner, name="upload-bench", scopes=["read", "write"])
        release = services.release_create(organization=organization, title="Upload Bench")
        track = services.track_create(release=release, title="Master", track_number=1)
    connections.close_all()
    return token, str(track.pk)


# --- Server and memory ---------------------------------------------------------------------


@contextmanager
def daphne(
    env: dict[str, str], server: str = "project"
) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    """A daphne process on a free port; always stopped on exit. `server` is "project"
    (enterprise_suite.server: daphne with bodies fed on demand) or "daphne" (stock)."""
    port = free_port()
    command = None if server == "project" else [str(BIN / "daphne"), *daphne_args(port)]
    with web_server(env, port, command=command, poll_seconds=0.2, stop_timeout=15) as running:
        yield running.process, running.base_url
        if running.process.poll() is not None:
            raise BenchError(f"daphne exited with {running.process.returncode}:\n{running.tail()}")


def _status_kb(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) * 1024
    raise BenchError(f"no {field} in /proc/{pid}/status")


class PeakRss:
    """The process's peak RSS over a block: the kernel's high-water mark, reset at the start.

    Where /proc/<pid>/clear_refs cannot be written, VmRSS is sampled every 2 ms instead (it may
    miss a short spike; the method used is printed).
    """

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.method = "VmHWM"
        self.peak = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def __enter__(self) -> PeakRss:
        try:
            Path(f"/proc/{self.pid}/clear_refs").write_text("5")
        except OSError:
            self.method = "sampled VmRSS"
            self._thread = threading.Thread(target=self._sample, daemon=True)
            self._thread.start()
        self.before = _status_kb(self.pid, "VmRSS")
        return self

    def _sample(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, _status_kb(self.pid, "VmRSS"))
            time.sleep(0.002)

    def __exit__(self, *exc: object) -> None:
        if self._thread is not None:
            self._stop.set()
            self._thread.join()
        else:
            self.peak = _status_kb(self.pid, "VmHWM")
        self.after = _status_kb(self.pid, "VmRSS")


# --- Uploads -------------------------------------------------------------------------------


def make_wav(path: Path, size: int) -> Path:
    from distribution.tests.media_files import make_wav_file

    return make_wav_file(
        path,
        seconds=size / BYTES_PER_SECOND,
        sample_rate=SAMPLE_RATE,
        bit_depth=BIT_DEPTH,
        channels=CHANNELS,
    )


def _chunks(path: Path) -> Iterator[bytes]:
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            yield chunk


def upload(
    client: httpx.Client, process: subprocess.Popen[bytes], url: str, path: Path, name: str
) -> Measurement:
    size = path.stat().st_size
    headers = {"Content-Type": "audio/wav", "Content-Length": str(size)}
    with PeakRss(process.pid) as rss:
        started = time.perf_counter()
        response = client.put(url, content=_chunks(path), headers=headers)
        seconds = time.perf_counter() - started
    if response.status_code != 201:
        raise BenchError(f"{name}: HTTP {response.status_code}: {response.text[:500]}")
    asset = response.json()
    if asset["size_bytes"] != size:
        raise BenchError(f"{name}: stored {asset['size_bytes']} bytes of {size}")
    return Measurement(
        name=name,
        size=size,
        seconds=seconds,
        rss_before=rss.before,
        hwm_after=rss.peak,
        rss_after=rss.after,
        hwm_method=rss.method,
        asset=asset,
    )


def report(m: Measurement) -> None:
    print(
        f"{m.name:<18} {m.size / MB:8.1f} MB in {m.seconds:5.2f}s "
        f"({m.size / MB / m.seconds:6.1f} MB/s)  RSS before {m.rss_before / MB:6.1f} MB, "
        f"peak {m.hwm_after / MB:6.1f} MB ({m.hwm_method}), after {m.rss_after / MB:6.1f} MB: "
        f"peak growth {m.peak_growth_mb:6.1f} MB, retained {m.retained_mb:6.1f} MB"
    )


def run(args: argparse.Namespace) -> int:
    work = Path(tempfile.mkdtemp(prefix="upload-bench-"))
    media_root, server_tmp, files = work / "media", work / "server-tmp", work / "files"
    for folder in (media_root, server_tmp, files):
        folder.mkdir()
    try:
        env = server_environment(media_root, server_tmp)
        print(f"database {DATABASE_NAME}, redis {REDIS_URL}, analysis in-process (eager)")
        name, params = postgres_target(env["DATABASE_URL"])
        assert name == DATABASE_NAME, name
        create_database(name, params)
        migrate(env)
        token, track_id = seed(env)

        started = time.perf_counter()
        warmup = make_wav(files / "warmup.wav", 256 * 1024)
        baseline = make_wav(files / "baseline.wav", 2 * MB)
        big = make_wav(files / "big.wav", args.size_mb * MB)
        print(
            f"wrote {big.stat().st_size / MB:.1f} MB WAV ({BIT_DEPTH}-bit, {CHANNELS} ch, "
            f"{SAMPLE_RATE} Hz) in {time.perf_counter() - started:.1f}s"
        )

        print(f"server: {args.server}")
        with daphne(env, args.server) as (process, base_url):
            url = f"{base_url}/api/v1/tracks/{track_id}/audio/"
            auth = {"Authorization": f"Bearer {token}"}
            with httpx.Client(headers=auth, timeout=args.timeout) as client:
                upload(client, process, url, warmup, "warm-up")
                small = upload(client, process, url, baseline, "baseline_2mb_wav")
                large = upload(client, process, url, big, f"upload_{args.size_mb}mb_wav")
                final = client.get(url)
            if final.status_code != 200 or final.json()["id"] != large.asset["id"]:
                raise BenchError(f"current asset is not the large upload: {final.text[:300]}")
            asset = final.json()
            leftovers = sorted(p.name for p in server_tmp.rglob("*"))

        report(small)
        report(large)
        print(
            f"asset {asset['id']}: status {asset['status']}, "
            f"{asset['analysis'].get('duration_seconds', '?')} s, "
            f"{asset['analysis'].get('sample_rate', '?')} Hz; "
            f"server temporary files left: {len(leftovers)}"
        )
        ratio = large.peak_growth_mb / small.peak_growth_mb if small.peak_growth_mb > 0 else 0.0
        verdict = "met" if large.peak_growth_mb < TARGET_MB else "NOT met"
        print()
        print(
            f"upload_{args.size_mb}mb_wav: peak RSS growth {large.peak_growth_mb:.1f} MB "
            f"(target < {TARGET_MB:.0f} MB: {verdict}); baseline 2 MB upload growth "
            f"{small.peak_growth_mb:.1f} MB; ratio {ratio:.1f}x; "
            f"{large.peak_growth_mb / (large.size / MB):.2f} MB of RSS per MB uploaded"
        )
        return 0
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else "")
    parser.add_argument("--size-mb", type=int, default=200, help="size of the large WAV")
    parser.add_argument(
        "--server",
        choices=["project", "daphne"],
        default="project",
        help="the project's web server (default) or stock daphne, for comparison",
    )
    parser.add_argument("--timeout", type=float, default=120.0, help="per request, seconds")
    args = parser.parse_args(argv)
    try:
        return run(args)
    except (BenchError, httpx.HTTPError) as exc:
        print(f"upload benchmark failed: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
