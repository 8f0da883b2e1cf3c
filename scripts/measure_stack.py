"""Time and memory of the whole stack on PostgreSQL: `python -m scripts.measure_stack` (make measure-stack).

Creates two fresh databases on PG_ADMIN_URL, migrates them, starts both services and Envoy on free ports,
and reports: how long migrating and starting took, each process's resident memory (RSS) at rest, then the
e2e suite's wall time against this very stack and each process's RSS and peak RSS (VmHWM) after it.
The databases are dropped at the end. Memory comes from /proc/PID/status (Linux).
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import asyncpg

from scripts.run_postgres import ADMIN_URL, NAMES, postgres_urls
from scripts.stack import ROOT, Stack, StackConfig, free_port, prepare, start


def memory_kib(pid: int) -> dict[str, int]:
    """VmRSS (resident now) and VmHWM (peak resident) of a live process, in KiB."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            fields[key] = int(value.split()[0])
    return fields


def report(title: str, stack: Stack) -> dict[str, dict[str, int]]:
    sample = {name: memory_kib(proc.pid) for name, proc in stack.processes.items()}
    print(f"\n{title}")
    print(f"  {'process':<20}{'RSS MiB':>10}{'peak MiB':>10}")
    for name, mem in sample.items():
        print(f"  {name:<20}{mem['VmRSS'] / 1024:>10.1f}{mem['VmHWM'] / 1024:>10.1f}")
    total_rss = sum(m["VmRSS"] for m in sample.values()) / 1024
    total_peak = sum(m["VmHWM"] for m in sample.values()) / 1024
    print(f"  {'total':<20}{total_rss:>10.1f}{total_peak:>10.1f}")
    return sample


async def drop(admin_url: str, names: list[str]) -> None:
    conn = await asyncpg.connect(admin_url, timeout=5)
    try:
        for name in names:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


def main() -> int:
    admin_url = os.environ.get("PG_ADMIN_URL", ADMIN_URL)
    names = {setting: f"cigar_measure_{uuid.uuid4().hex[:8]}" for setting in NAMES}
    var = ROOT / "var" / "measure"
    var.mkdir(parents=True, exist_ok=True)
    urls = asyncio.run(postgres_urls(admin_url, names))
    config = StackConfig.on_free_ports(
        var,
        auth_database_url=urls["AUTH_DATABASE_URL"],
        collection_database_url=urls["COLLECTION_DATABASE_URL"],
        # as deployed (docker-compose.yml, deploy/k8s): metrics on, JSON logs
        auth_metrics_port=free_port(),
        collection_metrics_port=free_port(),
        # the e2e suite registers its users from one address: lift the gateway's per-address limit on that
        extra_env={
            "AUTH_LOG_FORMAT": "json",
            "COLLECTION_LOG_FORMAT": "json",
            "REGISTRATION_RATE_LIMIT_BURST": "1000000",
        },
    )
    stack = None
    try:
        began = time.monotonic()
        prepare(config)
        migrated = time.monotonic()
        with (var / "stack.log").open("wb") as log:
            stack = start(config, log=log)
            ready = time.monotonic()
            print(f"migrate both databases (genkey + 2 x migrate): {migrated - began:.2f} s")
            print(f"start both services and Envoy until ready:     {ready - migrated:.2f} s")
            time.sleep(3)  # let start-up work (the JWKS fetch, Envoy's first health checks) settle
            report("at rest (3 s after ready)", stack)
            ports = ("gateway_port", "admin_port", "auth_port", "collection_port", "auth_metrics_port",
                     "collection_metrics_port")  # fmt: skip
            external = {"backend": "postgres", "var_dir": str(var), **{p: getattr(config, p) for p in ports}}
            env = {**os.environ, "CIGAR_E2E_STACK": json.dumps(external)}
            suite_began = time.monotonic()
            result = subprocess.run(
                [sys.executable, "-m", "pytest", "tests/e2e", "-q", "-p", "no:cacheprovider", "-k", "postgres"],
                cwd=ROOT, env=env, capture_output=True, text=True,
            )  # fmt: skip
            suite_time = time.monotonic() - suite_began
            print(f"\ne2e suite against this stack: {suite_time:.1f} s, {result.stdout.strip().splitlines()[-1]}")
            report("after the e2e suite", stack)
            stopping = time.monotonic()
            stack.stop()
            print(f"\nstop (SIGTERM, graceful): {time.monotonic() - stopping:.2f} s")
            return result.returncode
    finally:
        if stack:
            stack.stop()
        asyncio.run(drop(admin_url, list(names.values())))


if __name__ == "__main__":
    sys.exit(main())
