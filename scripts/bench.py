"""`make bench`: our stack against the FastAPI monolith baseline, same load, same database engine.

For each engine (SQLite, then PostgreSQL on fresh databases it creates and drops) it starts our stack
on free ports, drives the four scenarios of the shared load tool (scripts/vendored/load.py, a copy of
../shared/bench/load.py; wrk engine) through the gateway, stops it, restarts it on the same databases with
the micro-cache on for the browser scenario (scripts/bench_browser.py), does the same against the baseline
(../shared/bench/peer, when it is there), and prints one table per engine (req/s, p50, p99, errors, ratio
ours/baseline), the resident memory of every process of our stack at rest and after the run, and one JSON
line. Everything it starts it stops, by PID.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
import uuid
from dataclasses import replace
from pathlib import Path
from typing import IO

from scripts.bench_browser import LOAD_TOOL as LOAD_TOOL  # scripts/bench_cpu.py and tests import it from here
from scripts.bench_browser import browser_list, seed
from scripts.bench_report import goal_lines, print_table, print_tracing, ratios, stack_rss
from scripts.otlp_receiver import Receiver
from scripts.stack import ROOT, StackConfig, free_port, prepare, start

PG_ADMIN_URL = os.environ.get("CIGAR_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


# LOAD_TOOL: scripts/vendored/load.py, a copy of ../shared/bench/load.py (its README)


def shared_bench_dir() -> Path | None:
    """../shared/bench next to the repository (or above a worktree), with the baseline; BENCH_DIR overrides.
    None when there is none: then only our stack is measured."""
    if os.environ.get("BENCH_DIR"):
        candidates = [Path(os.environ["BENCH_DIR"])]
    else:
        candidates = [p / "shared" / "bench" for p in ROOT.parents]
    for path in candidates:
        if (path / "load.py").is_file() and (path / "peer" / "run.sh").is_file():
            return path
    return None


async def _pg(sql: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(PG_ADMIN_URL, timeout=5)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


class Databases:
    """Fresh databases for one engine: SQLite files in a temp dir, or PostgreSQL databases dropped at the end."""

    def __init__(self, engine: str, tmp: Path) -> None:
        self.engine, self.tmp = engine, tmp
        self.created: list[str] = []

    def url(self, name: str, driver: str = "asyncpg") -> str:
        if self.engine == "sqlite":
            return f"sqlite+aiosqlite:///{self.tmp / f'{name}.db'}"
        db = f"bench_{name}_{uuid.uuid4().hex[:8]}"
        asyncio.run(_pg(f'CREATE DATABASE "{db}"'))
        self.created.append(db)
        return f"{PG_ADMIN_URL.rsplit('/', 1)[0].replace('postgresql://', f'postgresql+{driver}://', 1)}/{db}"

    def drop(self) -> None:
        for db in self.created:
            asyncio.run(_pg(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)'))


def run_load(base_url: str, args: argparse.Namespace, label: str) -> list[dict]:
    cmd = [sys.executable, str(LOAD_TOOL), "--base-url", base_url, "--engine", "wrk",
           "-c", str(args.concurrency), "-d", str(args.duration), "--warmup", str(args.warmup),
           "--seed", str(args.seed), "--scenarios", load_scenarios(args), "--label", label]  # fmt: skip
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    lines = [x for x in out.stdout.splitlines() if x.startswith("{")]
    if out.returncode != 0 or not lines:
        raise RuntimeError(f"load.py failed ({label}): rc={out.returncode}\n{out.stdout[-2000:]}{out.stderr[-2000:]}")
    return json.loads(lines[-1])["results"]


def wait_http(url: str, proc: subprocess.Popen, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"baseline exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=1) as r:  # noqa: S310 (loopback only)
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"baseline not answering {url} after {timeout}s")


def stop_pid(proc: subprocess.Popen, timeout: float = 10.0) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def stack_env(auth_workers: int, collection_workers: int, log_level: str, token_limit: int) -> dict[str, str]:
    """The settings our stack runs under in make bench (and scripts/bench_cpu.py)."""
    return {
        "AUTH_WORKERS": str(auth_workers), "COLLECTION_WORKERS": str(collection_workers),
        # the baseline runs with --no-access-log: no per-request log lines on either side
        "AUTH_LOG_LEVEL": log_level, "COLLECTION_LOG_LEVEL": log_level,
        # Every request of the load comes from 127.0.0.1: the gateway's per-address limit on POST /token
        # (300 a minute) would answer 429 to nearly all of them, measuring the policy rather than the
        # stack. auth_service's own throttle (failed logins only) stays on.
        "TOKEN_RATE_LIMIT_BURST": str(token_limit),
    }  # fmt: skip


def tracing_env(mode: str, port: int) -> dict[str, str]:
    """Tracing as an operator turns it on: every process exports over OTLP, the gateway samples `mode` (a ratio)
    of the requests and the services follow it. "off": none of it (the default of make run)."""
    if mode == "off":
        return {}
    return {"OTEL_TRACES_EXPORTER": "otlp", "OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{port}",
            "OTEL_TRACES_SAMPLER": "parentbased_traceidratio", "OTEL_TRACES_SAMPLER_ARG": mode}  # fmt: skip


BROWSER = "browser_list"  # scripts/bench_browser.py: not a scenario of the shared load tool


def load_scenarios(args: argparse.Namespace) -> str:
    return ",".join(s for s in args.scenarios.split(",") if s.strip() and s.strip() != BROWSER)


def bench_ours(dbs: Databases, tmp: Path, args: argparse.Namespace, tracing: str = "off") -> dict:
    receiver = Receiver(keep=False)  # what the spans are exported to: a collector's work, done in this process
    port = receiver.start() if tracing != "off" else 0
    env = {**stack_env(args.auth_workers, args.collection_workers, args.log_level, args.token_limit),
           **tracing_env(tracing, port)}  # fmt: skip
    config = StackConfig.on_free_ports(
        tmp / "ours", auth_database_url=dbs.url("auth"), collection_database_url=dbs.url("collection"), extra_env=env
    )
    prepare(config)
    rows: list[dict] = []
    try:
        with (tmp / f"stack-{dbs.engine}.log").open("wb") as log:
            stack = start(config, log=log)
            try:
                time.sleep(1.0)  # let start-up work (JWKS warm-up, health checks) settle before "at rest"
                rss_rest = stack_rss(stack)
                if load_scenarios(args):
                    rows = run_load(stack.base_url, args, f"ours-{dbs.engine}")
                rss_after = stack_rss(stack)
            finally:
                stack.stop()
            if BROWSER in args.scenarios.split(","):
                rows.append(bench_browser_ours(config, args, log))
    finally:
        receiver.stop()
    return {"results": rows, "rss_rest": rss_rest, "rss_after": rss_after, "tracing": tracing,
            "spans_received": receiver.count}  # fmt: skip


def bench_browser_ours(config: StackConfig, args: argparse.Namespace, log: IO[bytes]) -> dict:
    """The browser scenario on the same databases, restarted with the micro-cache on (off, the default, for
    the scenarios above) and collection_service's metrics, which count the calls that reached it."""
    cached = replace(
        config, collection_metrics_port=free_port(),
        extra_env={**config.extra_env, "GATEWAY_MICROCACHE_SECONDS": str(args.microcache_seconds)},
    )  # fmt: skip
    stack = start(cached, log=log)
    try:
        seed(stack.base_url)
        metrics = f"http://127.0.0.1:{cached.collection_metrics_port}/metrics"
        return browser_list(stack.base_url, args.concurrency, args.duration, args.warmup, metrics)
    finally:
        stack.stop()


def bench_baseline(dbs: Databases, tmp: Path, bench: Path, args: argparse.Namespace) -> dict:
    port = free_port()
    env = {**os.environ, "DATABASE_URL": dbs.url("peer"), "PEER_VENV": str(ROOT / ".venv-peer")}
    with (tmp / f"peer-{dbs.engine}.log").open("wb") as log:
        proc = subprocess.Popen([str(bench / "peer" / "run.sh"), str(port)], env=env, stdout=log, stderr=log)
        try:  # run.sh execs uvicorn, so this PID is the server itself
            wait_http(f"http://127.0.0.1:{port}/cigars/?limit=1", proc)
            rows = run_load(f"http://127.0.0.1:{port}", args, f"baseline-{dbs.engine}") if load_scenarios(args) else []
            if BROWSER in args.scenarios.split(","):
                seed(f"http://127.0.0.1:{port}")
                rows.append(browser_list(f"http://127.0.0.1:{port}", args.concurrency, args.duration, args.warmup))
        finally:
            stop_pid(proc)
    return {"results": rows}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="make bench", description=__doc__)
    ap.add_argument("--engines", default="sqlite,postgres")
    ap.add_argument("-c", "--concurrency", type=int, default=32)
    ap.add_argument("-d", "--duration", type=float, default=5.0)
    ap.add_argument("--warmup", type=float, default=1.0)
    ap.add_argument("--seed", type=int, default=100)
    ap.add_argument("--scenarios", default=f"get_cigars,get_me,post_cigar,post_token,{BROWSER}")
    ap.add_argument("--microcache-seconds", type=int, default=1,
                    help=f"GATEWAY_MICROCACHE_SECONDS in {BROWSER} (the other scenarios run with it off)")  # fmt: skip
    # One process per service, as make run and the deployment files start them: on 2 cores shared with
    # Envoy, PostgreSQL and wrk, a second process added no throughput and a tail of 1-2 s (docs/performance.md).
    ap.add_argument("--auth-workers", type=int, default=1, help="auth_service processes (AUTH_WORKERS)")
    ap.add_argument("--collection-workers", type=int, default=1, help="collection_service processes")
    ap.add_argument(
        "--token-limit",
        type=int,
        default=1_000_000,
        help="gateway POST /token limit per address per minute (TOKEN_RATE_LIMIT_BURST; default 300)",
    )
    ap.add_argument("--log-level", default="WARNING", help="of our services (INFO logs every call)")
    ap.add_argument("--var-dir", type=Path, default=ROOT / "var" / "bench", help="logs and SQLite files, kept")
    ap.add_argument("--skip-baseline", action="store_true", help="measure only our stack (when tuning it)")
    ap.add_argument(
        "--tracing",
        default="off",
        help="comma-separated: off, or a ratio of requests traced (1 = all, 0.01 = 1 %%), exporting over OTLP to a "
        "receiver in this process; e.g. off,1,0.01 runs our stack three times per engine and compares them",
    )
    args = ap.parse_args(argv)
    # SIGTERM unwinds like Ctrl-C, so the `finally` blocks stop what was started and drop the databases.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    bench = shared_bench_dir()
    if bench is None and not args.skip_baseline:
        print("baseline: not run: no ../shared/bench (load.py, peer/run.sh) next to the repository; set BENCH_DIR "
              "to compare; measuring our stack only")  # fmt: skip
    print(f"our stack: {args.auth_workers} auth_service and {args.collection_workers} collection_service process(es), "
          f"log level {args.log_level}, gateway POST /token limit {args.token_limit} per address per minute "
          f"(all the load comes from one address), tracing {args.tracing}")  # fmt: skip
    if not shutil.which("wrk"):
        sys.exit("make bench: wrk not found (apt-get install wrk; `make bench` installs it)")
    report: dict = {"tool": "make bench", "loadavg_start": os.getloadavg()[0], "nproc": os.cpu_count(),
                    "auth_workers": args.auth_workers, "collection_workers": args.collection_workers,
                    "token_limit": args.token_limit, "log_level": args.log_level,
                    "concurrency": args.concurrency, "duration_s": args.duration, "seed": args.seed,
                    "engines": {}}  # fmt: skip
    modes = [mode.strip() for mode in args.tracing.split(",")]
    for mode in modes:
        if mode != "off" and not 0 <= float(mode) <= 1:
            sys.exit(f"make bench: --tracing {mode}: off or a ratio between 0 and 1")
    for engine in args.engines.split(","):
        # Kept until the next run (logs, SQLite files) under var/, which is git-ignored.
        tmp = args.var_dir.resolve() / engine  # absolute: the baseline runs in its own directory
        shutil.rmtree(tmp, ignore_errors=True)
        base = None
        by_mode = {}
        for index, mode in enumerate(modes):
            where = tmp if mode == "off" else tmp / f"tracing-{mode}"
            where.mkdir(parents=True, exist_ok=True)
            dbs = Databases(engine, where)  # fresh databases for each run of our stack
            try:
                load_before = os.getloadavg()[0]
                ours = bench_ours(dbs, where, args, mode)
                if index == 0 and not args.skip_baseline and bench is not None:
                    base = bench_baseline(dbs, where, bench, args)
            finally:
                dbs.drop()
            entry = {"loadavg": [load_before, os.getloadavg()[0]], "ours": ours, "baseline": base,
                     "ratio": ratios(ours["results"], base["results"]) if base else None}  # fmt: skip
            label = engine if mode == "off" else f"{engine}, tracing {mode}"
            report["engines"][label] = by_mode[mode] = entry
            print_table(label, entry)
        if len(modes) > 1:
            print_tracing(engine, by_mode)
    report["goals"] = goal_lines(report["engines"])
    print("\n".join(f"goal: {line}" for line in report["goals"]))
    print(json.dumps(report, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
