"""The browser scenario of `make bench`: the public list as a browser fetches it, `GET /cigars/?limit=10` with
`Accept-Encoding: gzip`. The shared load tool (scripts/vendored/load.py) sends no such header, so this drives
the same wrk engine with a script of its own, through load.py's own runner and latency summary (one wrk thread,
the same percentiles), against our stack with the micro-cache on and against the baseline alike."""

from __future__ import annotations

import importlib.util
import re
import time
import urllib.request
from types import ModuleType
from typing import Any

from scripts.stack import ROOT

LOAD_TOOL = ROOT / "scripts" / "vendored" / "load.py"

SCENARIO = "GET /cigars/ (browser, gzip)"
PATH = "/cigars/?skip=0&limit=10"
HEADERS = {"Accept-Encoding": "gzip, deflate"}  # what a browser sends to an http:// origin (br only over HTTPS)


def load_tool() -> ModuleType:
    """scripts/vendored/load.py as a module: its wrk runner and summary, unedited."""
    spec = importlib.util.spec_from_file_location("cigar_bench_load", LOAD_TOOL)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def wrk_lua(done: str) -> str:
    return "".join(f'wrk.headers["{name}"] = "{value}"\n' for name, value in HEADERS.items()) + done


def counter(metrics_url: str | None, method: str = "ListCigars") -> int | None:
    """collection_service's count of started `method` calls (its /metrics), or None without a metrics port."""
    if not metrics_url:
        return None
    with urllib.request.urlopen(metrics_url, timeout=5) as r:  # noqa: S310 (loopback only)
        text = r.read().decode()
    found = re.search(rf'grpc_server_started_total\{{grpc_method="{method}",[^}}]*\}} (\S+)', text)
    return int(float(found[1])) if found else 0


def check_answer(base_url: str) -> dict[str, str]:
    """One request as the load sends it: a 200 in gzip (else the numbers measure something else)."""
    request = urllib.request.Request(base_url + PATH, headers=HEADERS)  # noqa: S310 (loopback only)
    with urllib.request.urlopen(request, timeout=5) as r:  # noqa: S310
        return {"status": str(r.status), "content-encoding": r.headers.get("content-encoding") or "identity"}


def seed(base_url: str, count: int = 10) -> None:
    """A user and `count` cigars, when the list is empty (a bench of this scenario alone), so that a page is a
    page: ten cigars, compressed."""
    import httpx

    with httpx.Client(base_url=base_url, timeout=10) as client:
        if client.get("/cigars/", params={"limit": 1}).json():
            return
        name = f"browser_{time.time_ns()}"
        client.post("/users/", json={"username": name, "email": f"{name}@example.com", "password": "benchpassword"})
        token = client.post("/token", data={"username": name, "password": "benchpassword"}).json()["access_token"]
        for i in range(count):
            body = {"name": f"Cigar {i}", "brand": "Padrón", "origin": "Nicaragua",
                    "flavor_notes": "cocoa, espresso, cedar", "rating": 4}  # fmt: skip
            client.post("/cigars/", json=body, headers={"Authorization": f"Bearer {token}"})


def browser_list(base_url: str, concurrency: int, duration: float, warmup: float,
                 metrics_url: str | None = None) -> dict[str, Any]:  # fmt: skip
    """The scenario's row, in load.py's shape, plus how many calls reached collection_service per request."""
    load = load_tool()
    lua = wrk_lua(load.WRK_DONE)
    answer = check_answer(base_url)
    if warmup > 0:
        load.run_wrk(base_url, PATH, lua, concurrency, warmup, 60)
        time.sleep(0.2)
    before = counter(metrics_url)
    w = load.run_wrk(base_url, PATH, lua, concurrency, duration, 60)
    after = counter(metrics_url)
    elapsed = w["duration_us"] / 1e6
    errors = sum(w[k] for k in ("connect", "read", "write", "status", "timeout"))
    ok = w["requests"] - w["status"]
    calls = None if before is None or after is None else after - before
    per_1000 = round(1000 * calls / w["requests"], 2) if calls is not None and w["requests"] else None
    return {
        "scenario": SCENARIO,
        "concurrency": concurrency,
        "elapsed_s": round(elapsed, 3),
        "requests": w["requests"],
        "ok": ok,
        "errors": errors,
        "rps": round(ok / elapsed, 1),
        "p50_ms": round(w["p50_us"] / 1000, 2),
        "p90_ms": round(w["p90_us"] / 1000, 2),
        "p99_ms": round(w["p99_us"] / 1000, 2),
        "max_ms": round(w["max_us"] / 1000, 2),
        "content_encoding": answer["content-encoding"],
        "service_calls": calls,
        "service_calls_per_1000": per_1000,
    }
