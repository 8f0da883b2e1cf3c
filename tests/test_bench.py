"""`make bench` in miniature (a second per scenario, our stack only) and its report arithmetic."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from scripts.bench import LOAD_TOOL, shared_bench_dir
from scripts.bench_report import goal_lines, ratios
from scripts.stack import ROOT
from tests.conftest import note


def row(scenario: str, rps: float, p99: float, errors: int = 0) -> dict:
    return {"scenario": scenario, "rps": rps, "p50_ms": p99 / 2, "p99_ms": p99, "errors": errors}


def test_ratios_and_goals_compare_ours_with_the_baseline_of_the_same_run() -> None:
    ours = [row("GET /cigars/?limit=10", 2000, 90), row("POST /token", 40, 900), row("POST /cigars/", 900, 400)]
    base = [row("GET /cigars/?limit=10", 800, 100), row("POST /token", 5, 4000), row("POST /cigars/", 400, 300)]
    assert ratios(ours, base) == {"get_cigars": 2.5, "post_token": 8.0, "post_cigar": 2.25}
    entry = {"ours": {"results": ours, "rss_rest": {"total": 400, "total_pss": 240}}, "baseline": {"results": base}}
    entry["ratio"] = ratios(ours, base)
    lines = goal_lines({"sqlite": entry})
    assert lines[0].endswith(": met")  # memory: PSS under 250 MB
    assert "GET /cigars/?limit=10: 2.50x" in lines[1] and lines[1].endswith(": met")
    assert lines[2].endswith("NOT met")  # POST /token: 8x < 10x
    assert lines[3].endswith("NOT met")  # POST /cigars/: fast enough, but its p99 is worse


def test_the_vendored_load_tool_is_the_shared_one() -> None:
    """make bench drives both stacks with scripts/vendored/load.py: it must be the shared yardstick, unedited."""
    assert "def run_wrk" in LOAD_TOOL.read_text()
    shared = shared_bench_dir()
    if shared is None:
        note("bench: the vendored load tool was not compared with ../shared/bench/load.py: there is no ../shared")
        return
    assert LOAD_TOOL.read_bytes() == (shared / "load.py").read_bytes(), "cp ../shared/bench/load.py scripts/vendored/"


def test_a_short_bench_of_our_stack_prints_a_table_and_a_json_line_and_leaves_nothing_running(tmp_path: Path) -> None:
    cmd = [sys.executable, "-m", "scripts.bench", "--engines", "sqlite", "-d", "1", "--warmup", "0", "--seed", "3",
           "--scenarios", "get_cigars,post_cigar", "--skip-baseline", "--var-dir", str(tmp_path)]  # fmt: skip
    out = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=180)
    assert out.returncode == 0, out.stderr[-3000:]
    assert "GET /cigars/?limit=10" in out.stdout and "RSS MB (ours)" in out.stdout
    report = json.loads(out.stdout.strip().splitlines()[-1])
    results = report["engines"]["sqlite"]["ours"]["results"]
    assert [r["errors"] for r in results] == [0, 0]
    assert all(r["rps"] > 0 for r in results)
    assert report["engines"]["sqlite"]["ours"]["rss_rest"]["total_pss"] > 0
    assert processes_mentioning(str(tmp_path)) == []  # every process of the stack was stopped


def test_a_short_bench_with_tracing_compares_it_with_tracing_off_and_the_spans_reach_the_receiver(
    tmp_path: Path,
) -> None:
    cmd = [sys.executable, "-m", "scripts.bench", "--engines", "sqlite", "-d", "1", "--warmup", "0", "--seed", "3",
           "--scenarios", "get_cigars", "--skip-baseline", "--var-dir", str(tmp_path),
           "--tracing", "off,1"]  # fmt: skip
    out = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=240)
    assert out.returncode == 0, out.stderr[-3000:]
    assert "tracing overhead" in out.stdout
    report = json.loads(out.stdout.strip().splitlines()[-1])
    off, on = report["engines"]["sqlite"]["ours"], report["engines"]["sqlite, tracing 1"]["ours"]
    assert off["spans_received"] == 0
    # every request traced: at least Envoy's two spans, the service's and its statement's per request
    assert on["spans_received"] >= 4 * sum(r["requests"] for r in on["results"])
    assert processes_mentioning(str(tmp_path)) == []


def processes_mentioning(text: str) -> list[int]:
    """PIDs whose command line or environment names `text` (the services get their paths by environment)."""
    found = []
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            if text.encode() in (proc / "cmdline").read_bytes() + (proc / "environ").read_bytes():
                found.append(int(proc.name))
        except OSError:
            continue
    return found


def test_bench_cpu_prints_cpu_per_request_for_every_process_and_leaves_nothing_running() -> None:
    """scripts/bench_cpu.py, the "where the time goes" tool of docs/performance.md, one short scenario."""
    cmd = [sys.executable, "-m", "scripts.bench_cpu", "--engine", "sqlite", "-d", "1", "--seed", "3",
           "--scenarios", "get_cigars", "--collection-workers", "1"]  # fmt: skip
    out = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=180)
    assert out.returncode == 0, out.stderr[-3000:]
    header, row = out.stdout.strip().splitlines()[-2:]
    assert header.split()[2:7] == ["auth_service", "collection_service", "envoy", "postgres", "wrk"]
    cells = row.removeprefix("GET /cigars/?limit=10").split()
    rps, collection_ms = float(cells[0]), float(cells[2])
    assert rps > 0 and collection_ms > 0 and "errors" not in row
    assert processes_mentioning(str(ROOT / "var" / "bench-cpu" / "sqlite")) == []


def test_bench_driver_compares_the_statement_pools_per_statement() -> None:
    """scripts/bench_driver.py, behind docs/decisions/2026-11-29-statement-pool.md, in a few hundred statements."""
    cmd = [sys.executable, "-m", "scripts.bench_driver", "-n", "200", "--reps", "1", "--concurrency", "1,4",
           "--variants", "own,library"]  # fmt: skip
    out = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-3000:]
    rows = [line.split() for line in out.stdout.splitlines() if line.startswith("  ")]
    assert [r[0] for r in rows] == ["own", "library", "own", "library"]
    assert all(float(r[2]) > 0 for r in rows)  # the median CPU microseconds per statement


def test_the_browser_scenario_runs_with_the_micro_cache_and_counts_the_service_calls(tmp_path: Path) -> None:
    cmd = [sys.executable, "-m", "scripts.bench", "--engines", "sqlite", "-d", "1", "--warmup", "0",
           "--scenarios", "browser_list", "--skip-baseline", "--var-dir", str(tmp_path)]  # fmt: skip
    out = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=180)
    assert out.returncode == 0, out.stderr[-3000:]
    [row] = json.loads(out.stdout.strip().splitlines()[-1])["engines"]["sqlite"]["ours"]["results"]
    assert row["scenario"] == "GET /cigars/ (browser, gzip)" and row["errors"] == 0 and row["rps"] > 0
    assert row["content_encoding"] == "gzip"  # ten seeded cigars: a page worth compressing
    # kept for a second per Envoy worker: a handful of calls, not one per request
    assert row["service_calls"] is not None and row["service_calls"] < max(10, row["requests"] // 20)
    assert processes_mentioning(str(tmp_path)) == []
