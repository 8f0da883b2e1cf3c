"""The statement driver (service_kit.db.driver): the pool's limits, and, against real databases, what happens
to connections when PostgreSQL drops them. The PostgreSQL tests are marked `postgres` (make test-unit skips
them by that mark; make test runs them and fails them when PostgreSQL is down)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy import Integer, bindparam, column, select, table

from service_kit.db import driver as driver_module
from service_kit.db.availability import database_unavailable
from service_kit.db.driver import AiosqliteDriver, AsyncpgDriver, Pool, Statements, open_driver
from tests.conftest import PG_ADMIN_URL

PG_URL = PG_ADMIN_URL.replace("postgresql://", "postgresql+asyncpg://", 1)


async def test_the_pool_opens_on_demand_reuses_the_last_released_and_makes_only_the_overflow_wait(
    monkeypatch,
) -> None:
    opened: list[int] = []

    async def connect() -> int:
        opened.append(len(opened) + 1)
        return opened[-1]

    pool: Pool[int] = Pool(connect, size=2)
    a, b = await pool.acquire(), await pool.acquire()
    assert (a, b) == (1, 2) and pool.state() == {"checked_out": 2, "idle": 0, "size": 2}
    waiting = asyncio.ensure_future(pool.acquire())
    await asyncio.sleep(0.01)
    assert not waiting.done()  # full: the third caller waits ...
    pool.release(b)
    assert await waiting == 2  # ... for the connection released first, not a new one
    pool.release(a)
    assert await pool.acquire() == 1 and opened == [1, 2]
    monkeypatch.setattr(driver_module, "ACQUIRE_TIMEOUT_SECONDS", 0.05)
    with pytest.raises(TimeoutError) as raised:
        await pool.acquire()
    assert database_unavailable(raised.value)  # the caller gets UNAVAILABLE, not a hang


async def test_a_failed_connect_gives_its_slot_back() -> None:
    attempts = 0

    async def connect() -> str:
        nonlocal attempts
        attempts += 1
        if attempts == 1:
            raise OSError("connection refused")
        return "conn"

    pool: Pool[str] = Pool(connect, size=1)
    with pytest.raises(OSError):
        await pool.acquire()
    assert await asyncio.wait_for(pool.acquire(), 1) == "conn"


@pytest.mark.postgres
async def test_postgres_errors_keep_the_connection_and_one_closed_while_idle_is_replaced_unnoticed() -> None:
    driver = open_driver(PG_URL)
    assert isinstance(driver, AsyncpgDriver)
    admin = await asyncpg.connect(PG_ADMIN_URL)
    try:
        [[pid]] = await driver.fetch("SELECT pg_backend_pid()", [])
        with pytest.raises(asyncpg.DivisionByZeroError):
            await driver.fetch("SELECT 1 / $1::int", [0])
        assert await driver.fetch("SELECT pg_backend_pid()", []) == [(pid,)]  # same connection, still fine
        # What a server restart does to an idle connection: the server says goodbye and closes it.
        await admin.execute("SELECT pg_terminate_backend($1)", pid)
        await asyncio.sleep(0.2)
        [[new_pid]] = await driver.fetch("SELECT pg_backend_pid()", [])  # no call fails on the dead one
        assert new_pid != pid
        assert driver.pool_state() == {"checked_out": 0, "idle": 1, "size": driver_module.POOL_SIZE}
    finally:
        await driver.close()
        await admin.close()


@pytest.mark.postgres
async def test_a_connection_lost_mid_statement_is_unavailable_and_never_reused() -> None:
    driver = open_driver(PG_URL)
    try:
        [[pid]] = await driver.fetch("SELECT pg_backend_pid()", [])
        with pytest.raises(Exception) as raised:
            await driver.fetch("SELECT pg_terminate_backend(pg_backend_pid())", [])
        assert database_unavailable(raised.value)  # the caller gets UNAVAILABLE: retryable
        assert driver.pool_state()["idle"] == 0
        [[new_pid]] = await driver.fetch("SELECT pg_backend_pid()", [])
        assert new_pid != pid
    finally:
        await driver.close()


async def test_sqlite_connections_read_side_by_side_in_autocommit(tmp_path: Path) -> None:
    driver = open_driver(f"sqlite+aiosqlite:///{tmp_path / 'd.db'}")
    assert isinstance(driver, AiosqliteDriver)
    try:
        await driver.fetch("CREATE TABLE t (x INTEGER)", [])
        await driver.fetch("INSERT INTO t VALUES (?)", [1])  # committed at once: no transaction is left open
        rows = await asyncio.gather(*(driver.fetch("SELECT x, ? FROM t", [i]) for i in range(20)))
        assert [r[0][1] for r in rows] == list(range(20)) and all(r[0][0] == 1 for r in rows)
        assert driver.pool_state()["idle"] == driver_module.SQLITE_POOL_SIZE
        [[mode]] = await driver.fetch("PRAGMA journal_mode", [])
        assert mode == "wal"
    finally:
        await driver.close()
    with pytest.raises(ValueError, match="SQLite file"):
        open_driver("sqlite+aiosqlite:///:memory:")


class FakeConnection:
    """Stands in for an asyncpg connection the server left mid-protocol (its goodbye on shutdown arrived
    while it sat idle, before its socket closed): asyncpg refuses to start a statement on it."""

    def __init__(self, broken: bool) -> None:
        self.broken, self.terminated = broken, False

    def is_closed(self) -> bool:
        return self.terminated

    async def fetch(self, sql: str, *params: object) -> list[tuple]:
        if self.broken:
            raise asyncpg.InternalClientError("cannot switch to state 12; another operation (2) is in progress")
        return [(sql,)]

    def terminate(self) -> None:
        self.terminated = True


@pytest.mark.postgres
async def test_a_connection_left_mid_protocol_is_dropped_and_the_statement_runs_on_a_fresh_one() -> None:
    driver = open_driver(PG_URL)
    broken, fresh = FakeConnection(broken=True), FakeConnection(broken=False)
    connections = iter([fresh])

    async def connect() -> FakeConnection:
        return next(connections)

    driver._pool = Pool(connect, size=2)  # noqa: SLF001
    driver._pool._idle.append(broken)  # noqa: SLF001 - idle in the pool, as after a shutdown began
    assert await driver.fetch("INSERT ...", []) == [("INSERT ...",)]  # nothing was sent on the broken one
    assert broken.terminated and driver._pool.state() == {"checked_out": 0, "idle": 1, "size": 2}

    driver._pool._idle[:] = [FakeConnection(broken=True)]  # noqa: SLF001
    connections = iter([FakeConnection(broken=True)])
    with pytest.raises(ConnectionResetError) as raised:  # twice in a row: the database is not usable now
        await driver.fetch("SELECT 1", [])
    assert database_unavailable(raised.value)


async def test_statements_compile_once_per_shape_and_bind_by_name(tmp_path: Path) -> None:
    driver = open_driver(f"sqlite+aiosqlite:///{tmp_path / 's.db'}")
    statements = Statements(driver)
    t = table("t", column("x"), column("y"))
    builds: list[int] = []

    def build():  # type: ignore[no-untyped-def]
        builds.append(1)
        return select(t.c.x).where(t.c.x > bindparam("low", type_=Integer), t.c.y == bindparam("y", type_=Integer))

    try:
        await driver.fetch("CREATE TABLE t (x INTEGER, y INTEGER)", [])
        await driver.fetch("INSERT INTO t VALUES (1, 7), (2, 7), (3, 8)", [])
        assert await statements.fetch("above", build, {"y": 7, "low": 1}) == [(2,)]
        assert await statements.fetch("above", build, {"low": 0, "y": 8}) == [(3,)]
        assert builds == [1]  # the second call reused the compiled statement
    finally:
        await driver.close()
