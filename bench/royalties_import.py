"""Import throughput of a 1,000,000-line sales report against a raw COPY of the same file.

The issue's target: the full import (parse, validate, load, match) at 0.5x or better of a raw
`COPY` of the same file into a bare table, in the same run, with the importing process under
200 MB peak memory; and the earnings roll-up time against the COPY time.

It uses a database of its own (`enterprise_suite_royalties_bench`, dropped and recreated each
run, then migrated) and a Redis index of its own (`BENCH_REDIS_DB`, default 9). It seeds one
organization with 200 releases of 10 tracks, and writes a canonical-layout CSV of N lines
(default 1,000,000): 90% of lines name a catalog ISRC, 5% only a catalog UPC, 5% unknown
ISRCs (the unmatched queue); per-stream amounts with 10 decimal places; EUR, USD and GBP.

Each measurement runs in a fresh child process (`--phase`), so memory figures are the
process's own (VmHWM, the kernel's peak RSS; the peak of private memory is sampled from the
parent, so that nothing but the import runs in the measured process) and nothing is cached
between them:
  copy     `COPY bare FROM STDIN (FORMAT csv, HEADER)` streaming the file's bytes in 1 MB
           chunks into an unindexed table of text/bigint/numeric columns (the floor: no
           parsing or validation in Python);
  import   `sales_report_import` on the uploaded file with one ROYALTIES_IMPORT_READER: the
           file read in chunks, checked a column at a time (`polars` or `columns`; lines that
           are not plainly valid line by line) or line by line (`lines`), one product per
           distinct ISRC/UPC matched from in-memory catalog maps, one COPY of the lines, in
           one transaction;
  earnings `earnings(group_by=track)` and `(group_by=territory)` over the imported lines, with
           currency conversion;
  floor    the imported lines exported in the loader's own COPY text and loaded again into
           `royalties_salesline` (rolled back): what writing the rows alone costs, the ceiling
           of any import into that table whatever does the parsing; and the same into an
           unlogged copy of the table without its index (what the index and WAL cost).
Order: copy, then --rounds (5) times import and copy with the `polars` reader,
as many with `columns`, one with `lines`, then earnings and floor; the import and COPY times
are medians (this machine's disk and CPU are shared, so single runs vary by a third), and
each import is also given against the mean of the copies either side of it.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/enterprise_suite \\
    REDIS_URL=redis://127.0.0.1:6379/0 .venv/bin/python bench/royalties_import.py [--lines 1000000]

Exit status: 0 after a measurement, whatever the figures; 1 if a phase fails.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as `python bench/royalties_import.py`
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (
    DEFAULT_DATABASE_URL,
    DEFAULT_REDIS_URL,
    BenchError,
    bench_environment,
    create_database,
    migrate,
    postgres_target,
)

DATABASE_NAME = "enterprise_suite_royalties_bench"
DEFAULT_READER = "columns"  # ROYALTIES_IMPORT_READER's default
ORG_SLUG = "royalties-bench"
RELEASES, TRACKS_PER_RELEASE = 200, 10
MB = 1024 * 1024


def proc_status(field: str, pid: int | str = "self") -> int:
    """A memory figure of /proc/<pid>/status, in bytes."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    return 0


def isrc(n: int) -> str:
    return f"QZBEN26{n:05d}"


def upc(n: int) -> str:
    from stdnum import ean

    body = f"99{n:09d}"
    return body + ean.calc_check_digit(body)


# --- Child phases (run with Django set up) ------------------------------------------------------


def _django() -> None:
    import django

    django.setup()


def phase_seed() -> dict[str, Any]:
    _django()
    import datetime as dt
    from decimal import Decimal

    from accounts.models import Organization
    from distribution.models import Release, Track
    from royalties.models import ExchangeRate

    org = Organization.objects.create(name="Royalties bench", slug=ORG_SLUG, default_currency="EUR")
    releases = Release.objects.bulk_create(
        Release(organization=org, title=f"Release {r}", upc=upc(r)) for r in range(RELEASES)
    )
    Track.objects.bulk_create(
        Track(organization=org, release=release, track_number=t + 1, title=f"Track {t}",
              isrc=isrc(r * TRACKS_PER_RELEASE + t))
        for r, release in enumerate(releases)
        for t in range(TRACKS_PER_RELEASE)
    )  # fmt: skip
    month = dt.date(2026, 3, 1)
    ExchangeRate.objects.bulk_create(
        [
            ExchangeRate(organization=org, currency="USD", month=month, rate=Decimal("0.9213")),
            ExchangeRate(organization=org, currency="GBP", month=month, rate=Decimal("1.1688")),
        ]
    )
    return {"organization": str(org.pk)}


def phase_copy(path: str) -> dict[str, Any]:
    _django()
    import psycopg
    from django.conf import settings

    db = settings.DATABASES["default"]
    with psycopg.connect(
        dbname=db["NAME"], host=db["HOST"], port=db["PORT"] or 5432, user=db["USER"],
        password=db["PASSWORD"] or None,
    ) as conn:  # fmt: skip
        conn.execute("DROP TABLE IF EXISTS bare_sales")
        conn.execute(
            "CREATE TABLE bare_sales (store text, period text, territory text, isrc text, "
            "upc text, usage_type text, quantity bigint, gross numeric, net numeric, "
            "currency text)"
        )
        conn.commit()
        started = time.perf_counter()
        with (
            conn.cursor() as cursor,
            cursor.copy("COPY bare_sales FROM STDIN (FORMAT csv, HEADER true)") as copy,
            open(path, "rb") as handle,
        ):
            while chunk := handle.read(MB):
                copy.write(chunk)
        conn.commit()
        seconds = time.perf_counter() - started
        rows = conn.execute("SELECT count(*) FROM bare_sales").fetchone()[0]  # type: ignore[index]
        conn.execute("DROP TABLE bare_sales")
        conn.commit()
    return {"seconds": seconds, "rows": rows, "peak_rss": proc_status("VmHWM")}


def phase_import(path: str) -> dict[str, Any]:
    _django()
    from django.db import connection

    from accounts.models import Organization
    from royalties.services.reports import sales_report_import, sales_report_upload_path_file

    # An earlier round's import of the same file (its checksum would be a duplicate); the
    # bench's own database.
    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE royalties_salesline, royalties_reportproduct, royalties_saleslineblock, "
            "royalties_salesreport CASCADE"
        )
    organization = Organization.objects.get(slug=ORG_SLUG)
    rss_before_upload = proc_status("VmRSS")
    started = time.perf_counter()
    report = sales_report_upload_path_file(
        organization=organization, path=Path(path), store_code="spotify", enqueue=False
    )
    upload_seconds = time.perf_counter() - started
    rss_before, anon_before = proc_status("VmRSS"), proc_status("RssAnon")
    started, cpu_started = time.perf_counter(), time.process_time()
    sales_report_import(report_id=report.pk)
    seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu_started
    report.refresh_from_db()
    return {
        "seconds": seconds,
        "cpu_seconds": cpu_seconds,
        "upload_seconds": upload_seconds,
        "status": report.status,
        "error": report.error,
        "lines_loaded": report.lines_loaded,
        "lines_bad": report.lines_bad,
        "lines_matched": report.lines_matched,
        "rss_before_upload": rss_before_upload,
        "rss_before": rss_before,
        "anon_before": anon_before,
        "peak_rss": proc_status("VmHWM"),
    }


def phase_floor(path: str) -> dict[str, Any]:
    """The imported lines, exported in the loader's own COPY text (the exact columns and
    values it writes), loaded again with one `COPY royalties_salesline FROM STDIN` in a
    transaction that is rolled back: the cost of writing the rows, with no parsing,
    validation or matching at all, i.e. the ceiling of any import into this table."""
    _django()
    from django.db import connection, transaction

    from royalties.loading import COPY_COLUMNS
    from royalties.models import SalesLine

    table, columns = SalesLine._meta.db_table, ", ".join(COPY_COLUMNS)
    export = f"COPY (SELECT {columns} FROM {table}) TO STDOUT"  # noqa: S608 (our own names)
    with (
        connection.cursor() as cursor,
        open(path, "wb") as out,
        cursor.cursor.copy(export) as copy,
    ):
        for data in copy:
            out.write(data)
    size = Path(path).stat().st_size

    def load(target: str, setup: str = "") -> tuple[float, int]:
        with transaction.atomic(), connection.cursor() as cursor:
            if setup:
                cursor.execute(setup)
            started = time.perf_counter()
            with (
                cursor.cursor.copy(f"COPY {target} ({columns}) FROM STDIN") as copy,
                open(path, "rb") as handle,
            ):
                while chunk := handle.read(MB):
                    copy.write(chunk)
            seconds = time.perf_counter() - started
            rows = cursor.cursor.rowcount
            transaction.set_rollback(True)
        return seconds, rows

    seconds, rows = load(table)
    # The same rows into an unlogged copy of the table without its index: what the BRIN
    # index and the WAL cost.
    bare_seconds, _ = load(
        "bench_bare_lines",
        f"CREATE UNLOGGED TABLE bench_bare_lines (LIKE {table} INCLUDING DEFAULTS"
        " INCLUDING IDENTITY)",
    )
    return {"seconds": seconds, "rows": rows, "bytes": size, "bare_seconds": bare_seconds}


def phase_earnings() -> dict[str, Any]:
    _django()
    from accounts.models import Organization
    from royalties.selectors import earnings

    organization = Organization.objects.get(slug=ORG_SLUG)
    out: dict[str, Any] = {}
    for group in ("track", "territory"):
        started = time.perf_counter()
        rows, missing = earnings(organization=organization, group_by=group, filters={})
        out[group] = {
            "seconds": time.perf_counter() - started,
            "groups": len(rows),
            "total": str(sum(r.amount_cents for r in rows)),
            "missing_rates": missing,
        }
    return out


# --- Parent ---------------------------------------------------------------------------------


def write_report(path: Path, lines: int, seed: int = 7) -> int:
    rng = random.Random(seed)
    territories = ["DE", "FR", "US", "GB", "SE", "BR", "JP", "NL", "ES", "IT"]
    currencies = ["EUR", "EUR", "USD", "GBP"]
    tracks = RELEASES * TRACKS_PER_RELEASE
    with path.open("w", newline="") as out:
        out.write("store,period,territory,isrc,upc,usage_type,quantity,gross,net,currency\n")
        batch = []
        for _n in range(lines):
            kind = rng.random()
            if kind < 0.90:
                ids = f"{isrc(rng.randrange(tracks))},"
                usage = "stream"
            elif kind < 0.95:
                ids = f",{upc(rng.randrange(RELEASES))}"
                usage = "download"
            else:
                ids = f"{isrc(50_000 + rng.randrange(40_000))},"
                usage = "stream"
            quantity = rng.randrange(1, 5000)
            net = rng.randrange(1, 10**10) / 10**10 * quantity * 0.004
            batch.append(
                f"spotify,2026-03,{rng.choice(territories)},{ids},{usage},{quantity},"
                f"{net * 1.3:.10f},{net:.10f},{rng.choice(currencies)}\n"
            )
            if len(batch) >= 10_000:
                out.write("".join(batch))
                batch = []
        out.write("".join(batch))
    return path.stat().st_size


@contextmanager
def private_peak(pid: int) -> Iterator[list[int]]:
    """The peak private (anonymous) memory of process `pid` while the context is open (one
    figure in a list), sampled every 10 ms: the kernel keeps no peak of it. Sampled from
    outside: a thread in the import's own process reading its /proc status every 5 ms took
    an eighth of a million-line import's time (the GIL handed back and forth)."""
    peak, done = [0], threading.Event()

    def sample() -> None:
        while not done.wait(0.01):
            try:
                peak[0] = max(peak[0], proc_status("RssAnon", pid))
            except OSError:  # the process has exited
                return

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        yield peak
    finally:
        done.set()
        sampler.join()


def run_phase(
    env: dict[str, str], phase: str, *args: str, sample_private: bool = False
) -> dict[str, Any]:
    """Run one phase in a child process; its JSON result, with `peak_anon` (see
    `private_peak`) if `sample_private`."""
    with (
        subprocess.Popen(
            [sys.executable, __file__, "--phase", phase, *args],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        ) as child,
        private_peak(child.pid) if sample_private else nullcontext([0]) as peak_anon,
    ):
        stdout, stderr = child.communicate()
    if child.returncode:
        raise BenchError(f"phase {phase} failed:\n{stdout}\n{stderr}")
    result = dict(json.loads(stdout.strip().splitlines()[-1]))
    return {**result, "peak_anon": peak_anon[0]} if sample_private else result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=5, help="imports, each between copies")
    parser.add_argument("--phase", choices=["seed", "copy", "import", "floor", "earnings"])
    parser.add_argument("path", nargs="?")
    args = parser.parse_args()
    if args.phase:
        phases = {
            "seed": lambda: phase_seed(),
            "copy": lambda: phase_copy(args.path),
            "import": lambda: phase_import(args.path),
            "floor": lambda: phase_floor(args.path),
            "earnings": lambda: phase_earnings(),
        }
        print(json.dumps(phases[args.phase]()))
        return 0

    database_url = os.environ.get("DATABASE_URL", DEFAULT_DATABASE_URL)
    redis_url = os.environ.get("REDIS_URL", DEFAULT_REDIS_URL)
    _, params = postgres_target(database_url)
    create_database(DATABASE_NAME, params, recreate=True)
    env = bench_environment(
        "bench.settings",
        {"DATABASE_URL": database_url, "REDIS_URL": redis_url,
         "BENCH_DATABASE_NAME": DATABASE_NAME},
    )  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="royalties-bench-") as tmp:
        env["MEDIA_ROOT"] = str(Path(tmp) / "media")
        try:
            migrate(env)
            run_phase(env, "seed")
            path = Path(tmp) / "report.csv"
            started = time.perf_counter()
            size = write_report(path, args.lines)
            print(f"generated {args.lines:,} lines ({size / MB:.0f} MB) in "
                  f"{time.perf_counter() - started:.1f} s")  # fmt: skip
            copies = [run_phase(env, "copy", str(path))]
            # Each reader's imports, each followed by a copy: copy, import, copy, import, ...
            imports: dict[str, list[tuple[dict[str, Any], int]]] = {}
            for reader, rounds in (("polars", args.rounds), ("columns", args.rounds), ("lines", 1)):
                for _round in range(rounds):
                    reader_env = {**env, "ROYALTIES_IMPORT_READER": reader}
                    run = run_phase(reader_env, "import", str(path), sample_private=True)
                    imports.setdefault(reader, []).append((run, len(copies) - 1))
                    copies.append(run_phase(env, "copy", str(path)))
            rollup = run_phase(env, "earnings")
            floor = run_phase(env, "floor", str(Path(tmp) / "lines.copy"))
        except BenchError as exc:
            print(exc, file=sys.stderr)
            return 1
    copy_runs = sorted(run["seconds"] for run in copies)
    copy_seconds = copy_runs[len(copy_runs) // 2]  # median
    copy_rate = copies[0]["rows"] / copy_seconds
    print(f"raw COPY:  {copy_seconds:6.2f} s  {copy_rate:>10,.0f} lines/s (median; runs "
          f"{', '.join(f'{run:.2f}' for run in copy_runs)} s)")  # fmt: skip
    for reader, runs in imports.items():
        failed = [run for run, _ in runs if run["status"] != "imported"]
        if failed:
            print(f"import ({reader}) {failed[0]['status']}: {failed[0]['error']}", file=sys.stderr)
            return 1
        ordered = sorted(runs, key=lambda item: item[0]["seconds"])
        imported = ordered[len(ordered) // 2][0]  # median
        lines = imported["lines_loaded"] + imported["lines_bad"]
        import_rate = lines / imported["seconds"]
        # Each import against the mean of the copies just before and after it.
        pair_ratios = sorted(
            (copies[before]["seconds"] + copies[before + 1]["seconds"]) / 2 / run["seconds"]
            for run, before in runs
        )
        label = f"{reader} (default)" if reader == DEFAULT_READER else reader
        run_seconds = ", ".join(f"{run['seconds']:.2f}" for run, _ in runs)
        print(f"import, {label}: {imported['seconds']:.2f} s ({imported['cpu_seconds']:.2f} s "
              f"of CPU)  {import_rate:,.0f} lines/s  "
              f"ratio {import_rate / copy_rate:.2f}x (median of {len(runs)}: runs "
              f"{run_seconds} s; each against its "
              f"neighbouring copies {', '.join(f'{ratio:.2f}' for ratio in pair_ratios)}x); "
              f"peak RSS {max(run['peak_rss'] for run, _ in runs) / MB:.0f} MB (before "
              f"import {imported['rss_before'] / MB:.0f} MB), private (anonymous) peak "
              f"{max(run['peak_anon'] for run, _ in runs) / MB:.0f} MB (before "
              f"{imported['anon_before'] / MB:.0f} MB)")  # fmt: skip
    default_runs = [run for run, _ in imports[DEFAULT_READER]]
    imported = sorted(default_runs, key=lambda run: run["seconds"])[len(default_runs) // 2]
    print(f"           target >= 0.5x and < 200 MB; {imported['lines_loaded']:,} loaded, "
          f"{imported['lines_bad']:,} bad, {imported['lines_matched']:,} matched; upload "
          f"(checksum + store) {imported['upload_seconds']:.2f} s")  # fmt: skip
    floor_rate = floor["rows"] / floor["seconds"]
    print(f"floor:     {floor['seconds']:6.2f} s  {floor_rate:>10,.0f} lines/s  "
          f"ratio {floor_rate / copy_rate:.2f}x: COPY of the import's own rows into "
          f"royalties_salesline ({floor['bytes'] / MB:.0f} MB of COPY text, no parsing, "
          f"validation or matching); the import takes "
          f"{imported['seconds'] / floor['seconds']:.2f}x this")  # fmt: skip
    bare_ratio = floor["rows"] / floor["bare_seconds"] / copy_rate
    print(f"           the same rows into an unlogged copy of the table without indexes: "
          f"{floor['bare_seconds']:.2f} s ({bare_ratio:.2f}x)")  # fmt: skip
    for group, figures in rollup.items():
        print(f"earnings by {group:<9} {figures['seconds']:6.2f} s = "
              f"{figures['seconds'] / copy_seconds:.2f}x the COPY time "
              f"({figures['groups']} groups, total {figures['total']} EUR)")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
