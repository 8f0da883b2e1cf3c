"""Memory of a streamed export: `python -m scripts.bench_export [--cigars 100000]`.

Starts the stack on two fresh PostgreSQL databases (PG_ADMIN_URL), gives one user N cigars (written straight
into collection_service's database), then downloads GET /users/me/cigars/export through Envoy twice, as fast as
possible and as a slow client would (64 KiB every 20 ms), while sampling the resident memory (VmRSS, from
/proc) of collection_service and Envoy every 20 ms. Prints each process's memory at rest and its highest sample
during each download, the bytes, lines and time; then what GET /users/me/ (the whole collection in one gRPC
message) answers for the same user. Drops the databases at the end. Not a test: the figures depend on the machine.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import asyncpg
import httpx

from scripts.measure_stack import drop, memory_kib
from scripts.run_postgres import ADMIN_URL, NAMES, postgres_urls
from scripts.stack import ROOT, Stack, StackConfig, prepare, start

PROCESSES = ("collection_service", "envoy")


@contextmanager
def peak_rss(stack: Stack) -> Iterator[dict[str, int]]:
    """The highest VmRSS (KiB) of each process, sampled every 20 ms while the block runs."""
    peaks = dict.fromkeys(PROCESSES, 0)
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            for name in PROCESSES:
                peaks[name] = max(peaks[name], memory_kib(stack.processes[name].pid)["VmRSS"])
            done.wait(0.02)

    sampler = threading.Thread(target=sample)
    sampler.start()
    try:
        yield peaks
    finally:
        done.set()
        sampler.join()


async def give_cigars(url: str, owner: int, count: int) -> None:
    conn = await asyncpg.connect(url.replace("+asyncpg", ""))
    try:
        rows = [(f"Cigar {i} ✓", "Arturo Fuente", "Dominican Republic", f"cedar, leather, {i % 97} — " + "n" * 80,
                 i % 5 + 1, owner) for i in range(count)]  # fmt: skip
        columns = ["name", "brand", "origin", "flavor_notes", "rating", "owner_id"]
        await conn.copy_records_to_table("cigars", records=rows, columns=columns)
        await conn.execute("ANALYZE cigars")
    finally:
        await conn.close()


def download(client: httpx.Client, token: str, slow: bool) -> tuple[int, int, float]:
    began, size, lines = time.monotonic(), 0, 0
    with client.stream("GET", "/users/me/cigars/export", headers={"Authorization": f"Bearer {token}"}) as response:
        response.raise_for_status()
        for chunk in response.iter_bytes(64 * 1024):
            size, lines = size + len(chunk), lines + chunk.count(b"\n")
            if slow:
                time.sleep(0.02)
    return size, lines, time.monotonic() - began


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cigars", type=int, default=100_000)
    args = parser.parse_args()
    admin_url = os.environ.get("PG_ADMIN_URL", ADMIN_URL)
    names = {setting: f"cigar_bench_export_{uuid.uuid4().hex[:8]}" for setting in NAMES}
    var = ROOT / "var" / "bench-export"
    var.mkdir(parents=True, exist_ok=True)
    stack = None
    try:
        urls = asyncio.run(postgres_urls(admin_url, names))
        config = StackConfig.on_free_ports(var, auth_database_url=urls["AUTH_DATABASE_URL"],
                                           collection_database_url=urls["COLLECTION_DATABASE_URL"])  # fmt: skip
        prepare(config)
        with (var / "stack.log").open("wb") as log:
            stack = start(config, log=log)
            with httpx.Client(base_url=stack.base_url, timeout=120) as client:
                user = client.post("/users/", json={"username": "collector", "email": "c@example.com",
                                                    "password": "a long password"}).json()  # fmt: skip
                form = {"grant_type": "", "username": "collector", "password": "a long password"}
                token = client.post("/token", data=form).json()["access_token"]
                asyncio.run(give_cigars(urls["COLLECTION_DATABASE_URL"], user["id"], args.cigars))
                time.sleep(1)
                rest = {name: memory_kib(stack.processes[name].pid)["VmRSS"] for name in PROCESSES}
                print(f"{args.cigars:,} cigars of one user; resident memory in MiB")
                print(f"{'':<34}{'collection_service':>20}{'envoy':>8}{'MB sent':>9}{'lines':>9}{'seconds':>9}")
                print(f"{'at rest, before':<34}{rest['collection_service'] / 1024:>20.1f}{rest['envoy'] / 1024:>8.1f}")
                for label, slow in (("peak, fast download", False), ("peak, slow client (3.2 MB/s)", True)):
                    with peak_rss(stack) as peaks:
                        size, lines, seconds = download(client, token, slow)
                    print(f"{label:<34}{peaks['collection_service'] / 1024:>20.1f}{peaks['envoy'] / 1024:>8.1f}"
                          f"{size / 1e6:>9.1f}{lines:>9,}{seconds:>9.1f}")  # fmt: skip
                whole = client.get("/users/me/", headers={"Authorization": f"Bearer {token}"})
                print(f"GET /users/me/ (the whole collection in one message): {whole.status_code} {whole.text[:120]}")
        return 0
    finally:
        if stack:
            stack.stop()
        asyncio.run(drop(admin_url, list(names.values())))


if __name__ == "__main__":
    raise SystemExit(main())
