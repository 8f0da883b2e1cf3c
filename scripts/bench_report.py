"""Tables, ratios, goals and resident memory for `make bench` (scripts/bench.py)."""

from __future__ import annotations

from pathlib import Path

SCENARIO_KEYS = {
    "GET /cigars/?limit=10": "get_cigars",
    "GET /users/me/": "get_me",
    "POST /cigars/": "post_cigar",
    "POST /token": "post_token",
    "GET /cigars/ (browser, gzip)": "browser_list",  # scripts/bench_browser.py; ours with the micro-cache on
}
# The goals: ours / baseline req/s in one run, p99 not worse for the first three; whole stack at rest.
GOALS = {"get_cigars": 2.0, "get_me": 2.0, "post_cigar": 2.0, "post_token": 10.0, "browser_list": 10.0}
RSS_GOAL_MB = 250.0


def _children(pid: int) -> list[int]:
    kids = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            ppid = int(stat.read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        if ppid == pid:
            kids.append(int(stat.parent.name))
    return kids


def rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def pss_mb(pid: int) -> float:
    """Proportional set size: shared pages (the workers' copy-on-write imports) divided among their users."""
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def stack_rss(stack) -> dict[str, float]:  # type: ignore[no-untyped-def]
    """RSS in MB of every process of the stack (each service's workers too), the RSS total (which counts
    pages shared by forked workers once per process) and the PSS total (which counts them once)."""
    out: dict[str, float] = {}
    pss = 0.0
    for name, proc in stack.processes.items():
        todo, seen = [proc.pid], 0
        while todo:
            pid = todo.pop()
            out[name if not seen else f"{name}/{pid}"] = round(rss_mb(pid), 1)
            pss += pss_mb(pid)
            seen += 1
            todo.extend(_children(pid))
    out["total"] = round(sum(out.values()), 1)
    out["total_pss"] = round(pss, 1)
    return out


def _by_key(rows: list[dict]) -> dict[str, dict]:
    return {SCENARIO_KEYS[r["scenario"]]: r for r in rows}


def ratios(ours: list[dict], base: list[dict]) -> dict[str, float | None]:
    o, b = _by_key(ours), _by_key(base)
    return {k: round(o[k]["rps"] / b[k]["rps"], 2) if k in b and b[k]["rps"] else None for k in o}


def _f(v: float | None, fmt: str = ".1f") -> str:
    return "-" if v is None else format(v, fmt)


def print_table(engine: str, entry: dict) -> None:
    ours, base = _by_key(entry["ours"]["results"]), _by_key((entry["baseline"] or {}).get("results", []))
    la = entry["loadavg"]
    print(f"\n== {engine} (load average {la[0]:.2f} before, {la[1]:.2f} after) ==")
    head = f"{'scenario':<22} | {'ours req/s':>10} {'p50':>7} {'p99':>7} {'err':>4} | "
    print(head + f"{'base req/s':>10} {'p50':>7} {'p99':>7} {'err':>4} | {'ratio':>6}")
    for key, row in ours.items():
        b = base.get(key, {})
        ratio = (entry["ratio"] or {}).get(key)
        print(
            f"{row['scenario']:<22} | {row['rps']:>10.1f} {row['p50_ms']:>7.1f} {row['p99_ms']:>7.1f} "
            f"{row['errors']:>4d} | {_f(b.get('rps')):>10} {_f(b.get('p50_ms')):>7} {_f(b.get('p99_ms')):>7} "
            f"{_f(b.get('errors'), 'd'):>4} | {_f(ratio, '.2f'):>6}"
        )
    rest, after = entry["ours"]["rss_rest"], entry["ours"]["rss_after"]
    print("RSS MB (ours): " + ", ".join(f"{k} {rest[k]:.0f}→{after.get(k, 0):.0f}" for k in rest))


def goal_lines(engines: dict) -> list[str]:
    lines = []
    for engine, entry in engines.items():
        rest = entry["ours"]["rss_rest"]
        verdict = "met" if rest["total_pss"] < RSS_GOAL_MB else "NOT met"
        lines.append(f"{engine} memory at rest: PSS {rest['total_pss']:.0f} MB (RSS sum {rest['total']:.0f} MB) "
                     f"< {RSS_GOAL_MB:.0f}: {verdict}")  # fmt: skip
        if not entry["baseline"]:
            continue
        ours, base = _by_key(entry["ours"]["results"]), _by_key(entry["baseline"]["results"])
        for key, want in GOALS.items():
            if key not in ours or key not in base:
                continue
            ratio = entry["ratio"][key] or 0.0
            p99_ok = key == "post_token" or ours[key]["p99_ms"] <= base[key]["p99_ms"]
            ok = ratio >= want and p99_ok and ours[key]["errors"] == 0
            p99 = "" if key == "post_token" else f", p99 {ours[key]['p99_ms']:.0f} vs {base[key]['p99_ms']:.0f} ms"
            lines.append(f"{engine} {ours[key]['scenario']}: {ratio:.2f}x (want >= {want:g}x){p99}: "
                         f"{'met' if ok else 'NOT met'}")  # fmt: skip
    return lines


def print_tracing(engine: str, by_mode: dict[str, dict]) -> None:
    """Our stack's req/s, p50 and p99 with each tracing mode, against tracing off (the first mode)."""
    modes = list(by_mode)
    rows = {mode: _by_key(entry["ours"]["results"]) for mode, entry in by_mode.items()}
    print(f"\n== {engine}: tracing overhead (req/s, p50/p99 ms; change in req/s against {modes[0]}) ==")
    print(f"{'scenario':<22} | " + " | ".join(f"{'tracing ' + m:>28}" for m in modes))
    for key, first in rows[modes[0]].items():
        cells = []
        for mode in modes:
            row = rows[mode].get(key)
            if row is None:
                cells.append(f"{'-':>28}")
                continue
            change = f"{(row['rps'] / first['rps'] - 1) * 100:+5.1f}%" if first["rps"] else "   -  "
            cells.append(f"{row['rps']:>7.1f} {row['p50_ms']:>5.1f}/{row['p99_ms']:<6.1f} {change:>7}")
        print(f"{first['scenario']:<22} | " + " | ".join(cells))
    for mode, entry in by_mode.items():
        rest = entry["ours"]["rss_rest"]
        print(f"tracing {mode}: PSS at rest {rest['total_pss']:.0f} MB (RSS sum {rest['total']:.0f} MB), "
              f"spans received {entry['ours']['spans_received']}")  # fmt: skip
