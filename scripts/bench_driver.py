"""CPU per statement through the PostgreSQL statement driver, in one process: service_kit's own Pool
(AsyncpgDriver) against asyncpg's own pool with a no-op reset (AsyncpgLibraryPoolDriver below), and a bare
connection as the floor. Less noisy than the whole stack (scripts/bench_cpu.py): no Envoy, no gRPC, one
process, process_time only. Decision record: docs/decisions/2026-11-29-statement-pool.md.

    .venv/bin/python -m scripts.bench_driver [-n 20000] [--reps 5] [--concurrency 1,16] [--variants ...]

Variants run interleaved, each repetition on a fresh driver after a warm-up of 1000 statements.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import statistics
import time
from collections.abc import Sequence
from typing import Any

import asyncpg

from scripts.bench import PG_ADMIN_URL
from service_kit.db.availability import database_unavailable
from service_kit.db.driver import (
    ACQUIRE_TIMEOUT_SECONDS,
    CONNECT_TIMEOUT_SECONDS,
    POOL_SIZE,
    AsyncpgDriver,
    Row,
)


async def _no_reset(conn: Any) -> None:
    """Nothing to reset on release: every statement runs alone in autocommit and leaves no session state
    (no SET, LISTEN, advisory lock, open transaction). Replaces asyncpg's reset query (RESET ALL; ...)."""


class AsyncpgLibraryPoolDriver:
    """AsyncpgDriver's semantics on asyncpg's own pool (create_pool) with its reset round trip turned off: the
    alternative measured and turned down (docs/decisions/2026-11-29-statement-pool.md), kept here to measure
    again (a new asyncpg, a new Python). Driver tests it passed: branch pool-measure, commit 25de748."""

    # Pass the acquire timeout only when every connection is busy, as Pool does: saves asyncio.wait_for's
    # task per statement. False: always pass it (the "library-always-timeout" variant).
    timeout_only_when_full = True

    def __init__(self, dsn: str, size: int = POOL_SIZE) -> None:
        import asyncpg
        from sqlalchemy.dialects.postgresql.asyncpg import dialect

        self.dialect = dialect()
        self._asyncpg = asyncpg
        self._dsn = dsn
        self._size = size
        self._pool: Any = None  # created on first use: open_driver opens nothing
        self._busy = 0

    async def _open(self) -> Any:
        pool = self._asyncpg.create_pool(
            self._dsn,
            min_size=0,  # connections open on demand, as Pool's
            max_size=self._size,
            reset=_no_reset,
            max_inactive_connection_lifetime=0,  # idle connections stay, as Pool's (no timer per release)
            timeout=CONNECT_TIMEOUT_SECONDS,  # asyncpg.connect's
        )
        await pool  # min_size=0: connects nothing, so this never suspends and two first callers cannot race
        self._pool = pool
        return pool

    async def fetch(self, sql: str, params: Sequence[Any]) -> list[Row]:
        try:
            return await self._fetch(sql, params)
        except self._asyncpg.InternalClientError:
            pass  # as AsyncpgDriver.fetch: nothing was sent, one more try on a fresh connection
        try:
            return await self._fetch(sql, params)
        except self._asyncpg.InternalClientError as exc:
            raise ConnectionResetError(f"database connection unusable: {exc}") from exc

    async def _fetch(self, sql: str, params: Sequence[Any]) -> list[Row]:
        pool = self._pool or await self._open()
        full = self._busy >= self._size
        self._busy += 1
        try:
            timeout = ACQUIRE_TIMEOUT_SECONDS if full or not self.timeout_only_when_full else None
            conn = await pool.acquire(timeout=timeout)
            try:
                rows = await conn.fetch(sql, *params)
            except BaseException as exc:
                if isinstance(exc, self._asyncpg.PostgresError) and not database_unavailable(exc):
                    await pool.release(conn)  # the server refused the statement; the connection is fine
                    raise
                # Cancelled mid-statement, left mid-protocol, or the connection or server is gone: never reuse
                # it. terminate() hands the slot back at once (asyncpg's release would first wait for the
                # server to confirm a cancel). If the server went away, the idle ones are dead too: expire them
                # (each is closed and replaced at its next checkout).
                with contextlib.suppress(self._asyncpg.InterfaceError):  # already released if it closed itself
                    conn.terminate()
                if database_unavailable(exc) or isinstance(exc, self._asyncpg.InternalClientError):
                    await pool.expire_connections()
                raise
            await pool.release(conn)
            return rows
        finally:
            self._busy -= 1

    def pool_state(self) -> dict[str, int]:
        idle = self._pool.get_idle_size() if self._pool is not None else 0
        return {"checked_out": self._busy, "idle": idle, "size": self._size}

    async def close(self) -> None:
        if self._pool is not None:
            # close() waits for busy connections to come back; past the timeout it terminates them all.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._pool.close(), CONNECT_TIMEOUT_SECONDS)


class LibraryAlwaysTimeout(AsyncpgLibraryPoolDriver):
    timeout_only_when_full = False


class BareConnection:
    """No pool at all: one asyncpg connection, the floor under both pools."""

    def __init__(self, dsn: str, size: int) -> None:
        self._dsn = dsn
        self._conn: Any = None

    async def fetch(self, sql: str, params: list) -> list:
        if self._conn is None:
            self._conn = await asyncpg.connect(self._dsn)
        return await self._conn.fetch(sql, *params)

    async def close(self) -> None:
        if self._conn is not None:
            await self._conn.close()


VARIANTS = {
    "bare": BareConnection,
    "own": AsyncpgDriver,
    "library": AsyncpgLibraryPoolDriver,
    "library-always-timeout": LibraryAlwaysTimeout,
}


async def run(driver, n: int, concurrency: int) -> float:  # type: ignore[no-untyped-def]
    if isinstance(driver, BareConnection):
        concurrency = 1  # one connection: one statement at a time

    async def worker(count: int) -> None:
        for _ in range(count):
            await driver.fetch("SELECT 1", [])

    await asyncio.gather(*(worker(1000 // concurrency) for _ in range(concurrency)))  # warm-up, connections open
    started = time.process_time()
    await asyncio.gather(*(worker(n // concurrency) for _ in range(concurrency)))
    return (time.process_time() - started) / (n // concurrency * concurrency) * 1e6


async def main(args: argparse.Namespace) -> None:
    names = args.variants.split(",")
    for concurrency in map(int, args.concurrency.split(",")):
        results: dict[str, list[float]] = {name: [] for name in names}
        for _ in range(args.reps):
            for name in names:
                driver = VARIANTS[name](PG_ADMIN_URL, POOL_SIZE)
                try:
                    results[name].append(await run(driver, args.n, concurrency))
                finally:
                    await driver.close()
        print(f"N={args.n} SELECT 1, concurrency {concurrency}, pool size {POOL_SIZE}: CPU us per statement")
        for name, values in results.items():
            print(f"  {name:<24} median {statistics.median(values):6.1f}  min {min(values):6.1f}  "
                  f"runs {' '.join(f'{v:.1f}' for v in values)}")  # fmt: skip


if __name__ == "__main__":
    ap = argparse.ArgumentParser(prog="bench_driver", description=__doc__)
    ap.add_argument("-n", type=int, default=20000)
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--concurrency", default="1,16")
    ap.add_argument("--variants", default="own,library,library-always-timeout")
    asyncio.run(main(ap.parse_args()))
