"""Monolith import throughput on PostgreSQL: `python -m scripts.bench_import [--users N] [--cigars M]`.

Builds a monolith database (scripts/fake_monolith.py, its dirty rows included) and two empty, migrated service
databases on PG_ADMIN_URL, then times `python -m monolith_import --on-invalid=fix` into them: the whole command
(process start, settings, schema checks, reading the monolith, checking and writing) and rows per second. A second
run over the same data times the no-op re-run. Prints one table; drops the databases at the end. Not a test:
the figures depend on the machine (docs/operations.md has the ones measured here).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import time
import uuid

from scripts.fake_monolith import build, write
from scripts.measure_stack import drop
from scripts.run_postgres import ADMIN_URL, postgres_urls
from scripts.stack import ROOT


def timed_import(env: dict[str, str], source: str, batch: int) -> tuple[float, str]:
    began = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "monolith_import", "--from", source, "--on-invalid=fix", "--summary",
         "--batch-size", str(batch)],
        env=env, cwd=ROOT, capture_output=True, text=True,
    )  # fmt: skip
    if done.returncode != 0:
        raise SystemExit(f"the import failed ({done.returncode}):\n{done.stdout}{done.stderr[-3000:]}")
    return time.monotonic() - began, done.stdout.strip().splitlines()[-1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--cigars", type=int, default=100_000)
    parser.add_argument("--batch-size", type=int, default=500)
    args = parser.parse_args()
    admin_url = os.environ.get("PG_ADMIN_URL", ADMIN_URL)
    suffix = uuid.uuid4().hex[:8]
    names = {"MONOLITH": f"cigar_bench_monolith_{suffix}", "AUTH_DATABASE_URL": f"cigar_bench_auth_{suffix}",
             "COLLECTION_DATABASE_URL": f"cigar_bench_collection_{suffix}"}  # fmt: skip
    try:
        urls = asyncio.run(postgres_urls(admin_url, names))
        source = urls["MONOLITH"].replace("+asyncpg", "")
        began = time.monotonic()
        monolith = build(args.users, args.cigars, sqlite=False)
        asyncio.run(write(monolith, source))
        print(f"monolith: {len(monolith.users):,} users, {len(monolith.cigars):,} cigars "
              f"(built in {time.monotonic() - began:.1f} s)")  # fmt: skip
        env = {**os.environ, **{k: v for k, v in urls.items() if k != "MONOLITH"}}
        for service in ("auth_service", "collection_service"):
            subprocess.run([sys.executable, "-m", service, "migrate"], env=env, cwd=ROOT, check=True,
                           capture_output=True)  # fmt: skip
        rows = len(monolith.users) + len(monolith.cigars)
        first, said = timed_import(env, source, args.batch_size)
        again, said_again = timed_import(env, source, args.batch_size)
        print(f"{'run':<28}{'seconds':>9}{'rows/s':>10}  the import said")
        print(f"{'first (writes everything)':<28}{first:>9.2f}{rows / first:>10,.0f}  {said}")
        print(f"{'second (finds it all done)':<28}{again:>9.2f}{rows / again:>10,.0f}  {said_again}")
        return 0
    finally:
        asyncio.run(drop(admin_url, list(names.values())))


if __name__ == "__main__":
    sys.exit(main())
