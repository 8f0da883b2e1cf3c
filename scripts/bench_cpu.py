"""Where the time goes: CPU milliseconds per request, by process, for each scenario of `make bench`.

Starts our stack on one engine (fresh databases, like `make bench`), seeds it with the load tool's own
set-up (scripts/vendored/load.py), drives each scenario with the same wrk script, and reads the CPU time
(/proc, user + system) of Envoy, each service's worker processes, the PostgreSQL backends and wrk itself
before and after. CPU per request is what decides throughput on a 2-core machine where all of them share
the cores.

    .venv/bin/python -m scripts.bench_cpu [--engine sqlite|postgres] [-d 5] [--scenarios ...] [--tracing 0.01]
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import resource
import shutil
import sys
from pathlib import Path

import httpx

from scripts.bench import LOAD_TOOL, Databases, stack_env, tracing_env
from scripts.bench_report import _children
from scripts.otlp_receiver import Receiver
from scripts.stack import ROOT, StackConfig, running


def _postgres_pids() -> list[int]:
    pids = []
    for comm in Path("/proc").glob("[0-9]*/comm"):
        try:
            if comm.read_text().startswith("postgres"):
                pids.append(int(comm.parent.name))
        except OSError:
            continue
    return pids


def _groups(stack) -> dict[str, list[int]]:  # type: ignore[no-untyped-def]
    groups = {}
    for name, proc in stack.processes.items():
        pids, todo = [], [proc.pid]
        while todo:
            pid = todo.pop()
            pids.append(pid)
            todo.extend(_children(pid))
        groups[name] = pids
    return groups


def _snapshot(load, groups: dict[str, list[int]]) -> dict[str, float]:  # type: ignore[no-untyped-def]
    # PostgreSQL backends come and go with the pools' connections: read them anew each time. A process
    # that is gone counts 0 (load.proc_cpu_seconds says None).
    pids_by_group = {**groups, "postgres": _postgres_pids()}
    out = {name: sum(load.proc_cpu_seconds(p) or 0.0 for p in pids) for name, pids in pids_by_group.items()}
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    out["wrk"] = ru.ru_utime + ru.ru_stime
    # this process is idle while wrk runs, but for the OTLP receiver's threads (with --tracing): a collector's work
    me = resource.getrusage(resource.RUSAGE_SELF)
    out["receiver"] = me.ru_utime + me.ru_stime
    return out


def _load_module():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("shared_load", LOAD_TOOL)
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


async def _measure(stack, load, args: argparse.Namespace) -> None:  # type: ignore[no-untyped-def]
    async with httpx.AsyncClient(base_url=stack.base_url, timeout=60) as client:
        ctx = await load.setup(client, args.seed)
        groups = _groups(stack)
        names = [*groups, "postgres", "wrk", *(["receiver"] if args.tracing != "off" else [])]
        print(f"{'scenario':<22} {'req/s':>8}  " + "  ".join(f"{n:>18}" for n in names) + "  (CPU ms per request)")
        for scenario in args.scenarios.split(","):
            path, lua = load.wrk_script(scenario, ctx)
            if scenario != "post_token":
                load.run_wrk(stack.base_url, path, lua, args.concurrency, 1, 60)  # warm-up, as load.py does
            before = _snapshot(load, groups)
            w = load.run_wrk(stack.base_url, path, lua, args.concurrency, args.duration, 60)
            after = _snapshot(load, groups)
            ok = w["requests"] - w["status"]
            per = {n: (after[n] - before[n]) * 1000 / max(ok, 1) for n in names}
            total = sum(per.values())
            errors = f"  errors {w['requests'] - ok}" if w["requests"] != ok else ""
            print(f"{load.SCENARIOS[scenario]:<22} {ok / (w['duration_us'] / 1e6):>8.1f}  "
                  + "  ".join(f"{per[n]:>18.3f}" for n in names) + f"  total {total:.3f}{errors}")  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="bench_cpu", description=__doc__)
    ap.add_argument("--engine", choices=["sqlite", "postgres"], default="sqlite")
    ap.add_argument("-c", "--concurrency", type=int, default=32)
    ap.add_argument("-d", "--duration", type=int, default=5)
    ap.add_argument("--seed", type=int, default=100)
    ap.add_argument("--scenarios", default="get_cigars,get_me,post_cigar,post_token")
    ap.add_argument("--auth-workers", type=int, default=2)
    ap.add_argument("--collection-workers", type=int, default=2)
    ap.add_argument("--tracing", default="off", help="off, or the ratio of requests traced (as make bench --tracing)")
    args = ap.parse_args(argv)
    load = _load_module()
    tmp = ROOT / "var" / "bench-cpu" / args.engine
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    dbs = Databases(args.engine, tmp)
    receiver = Receiver(keep=False)
    port = receiver.start() if args.tracing != "off" else 0
    try:
        config = StackConfig.on_free_ports(
            tmp, auth_database_url=dbs.url("auth"), collection_database_url=dbs.url("collection"),
            extra_env={**stack_env(args.auth_workers, args.collection_workers, "WARNING", 1_000_000),
                       **tracing_env(args.tracing, port)},
        )  # fmt: skip
        with running(config, tmp / "stack.log") as stack:
            asyncio.run(_measure(stack, load, args))
    finally:
        receiver.stop()
        dbs.drop()
    if args.tracing != "off":
        print(f"tracing {args.tracing}: {receiver.count} spans received")
    return 0


if __name__ == "__main__":
    sys.exit(main())
