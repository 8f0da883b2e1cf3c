"""One SQL statement at a time, straight on the driver: asyncpg's pool, or a few aiosqlite connections.

Every cigar read and write is a single statement, atomic on its own, so these run in autocommit: no
BEGIN/ROLLBACK round trips, no ORM session, no SQLAlchemy result objects. The SQL itself is still SQLAlchemy
Core (statements.py), compiled once per statement shape for the engine's dialect. Per GET /cigars/ this path
costs about a tenth of a session's CPU (scripts/bench_cpu.py, README "Performance").
Multi-statement transactions (account deletion) keep using SQLAlchemy sessions (db/accounts.py).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

import aiosqlite
import asyncpg
from sqlalchemy.dialects.postgresql.asyncpg import dialect as asyncpg_dialect
from sqlalchemy.dialects.sqlite.aiosqlite import dialect as aiosqlite_dialect
from sqlalchemy.engine import Dialect, make_url

from .availability import database_unavailable
from .engine import SQLITE_PRAGMAS

Row = Sequence[Any]
POOL_SIZE = 10  # per worker process; PostgreSQL's default max_connections is 100 (README "Performance")
ACQUIRE_TIMEOUT_SECONDS = 30.0  # as SQLAlchemy's pool: then the caller gets UNAVAILABLE
CONNECT_TIMEOUT_SECONDS = 5.0


class Driver(Protocol):
    dialect: Dialect

    async def fetch(self, sql: str, params: Sequence[Any]) -> list[Row]: ...
    def pool_state(self) -> dict[str, int]: ...
    async def close(self) -> None: ...


async def _reset_if_needed(conn: asyncpg.Connection) -> None:
    """Instead of asyncpg's default reset on release (a query: RESET ALL, UNLISTEN *, CLOSE ALL, advisory
    unlock), a round trip per call for state this module never creates: it only ever runs single
    autocommit statements. A connection somehow left inside a transaction still gets the full reset."""
    if conn.is_in_transaction():
        await conn.reset()


class AsyncpgDriver:
    """asyncpg's pool; each connection keeps its prepared statements, so a statement is parsed once."""

    dialect = asyncpg_dialect()

    def __init__(self, pool: asyncpg.Pool, size: int) -> None:
        self._pool = pool
        self._size = size

    @classmethod
    async def open(cls, dsn: str, size: int = POOL_SIZE) -> AsyncpgDriver:
        # min_size 0: connections open on first use, so a database that is down at start costs nothing here
        pool = await asyncpg.create_pool(
            dsn, min_size=0, max_size=size, timeout=CONNECT_TIMEOUT_SECONDS, reset=_reset_if_needed
        )
        return cls(pool, size)

    async def fetch(self, sql: str, params: Sequence[Any]) -> list[Row]:
        try:
            async with self._pool.acquire(timeout=ACQUIRE_TIMEOUT_SECONDS) as conn:
                return await conn.fetch(sql, *params)
        except Exception as exc:
            if database_unavailable(exc):
                # The server restarted or went away: every idle connection is likely dead too. Replace them
                # all on their next use instead of failing one request per stale connection.
                self._pool.expire_connections()
            raise

    def pool_state(self) -> dict[str, int]:
        idle = self._pool.get_idle_size()
        return {"checked_out": self._pool.get_size() - idle, "idle": idle, "size": self._size}

    async def close(self) -> None:
        await self._pool.close()


class AiosqliteDriver:
    """A few aiosqlite connections in autocommit, each with its own thread: under WAL they read side by
    side, and writers queue on SQLite's lock (busy_timeout). One thread hop per statement."""

    dialect = aiosqlite_dialect()

    def __init__(self, path: str, size: int = 4) -> None:
        self._path = path
        self._size = size
        self._opened = 0
        self._idle: asyncio.LifoQueue[aiosqlite.Connection] = asyncio.LifoQueue()
        self._all: list[aiosqlite.Connection] = []

    async def _connect(self) -> aiosqlite.Connection:
        conn = await aiosqlite.connect(self._path, isolation_level=None)  # None: autocommit
        for pragma in SQLITE_PRAGMAS:
            await conn.execute(pragma)
        self._all.append(conn)
        return conn

    async def _acquire(self) -> aiosqlite.Connection:
        if self._idle.empty() and self._opened < self._size:
            self._opened += 1
            try:
                return await self._connect()
            except BaseException:
                self._opened -= 1
                raise
        return await self._idle.get()

    async def fetch(self, sql: str, params: Sequence[Any]) -> list[Row]:
        conn = await self._acquire()
        try:
            return list(await conn.execute_fetchall(sql, params))
        finally:
            self._idle.put_nowait(conn)

    def pool_state(self) -> dict[str, int]:
        idle = self._idle.qsize()
        return {"checked_out": self._opened - idle, "idle": idle, "size": self._size}

    async def close(self) -> None:
        for conn in self._all:
            await conn.close()
        self._all.clear()


async def open_driver(database_url: str) -> Driver:
    """The driver for a SQLAlchemy URL (postgresql+asyncpg://... or sqlite+aiosqlite:///...)."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        if not url.database or url.database == ":memory:":
            raise ValueError("collection_service needs a SQLite file: an in-memory database is one per connection")
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)
        return AiosqliteDriver(url.database)
    return await AsyncpgDriver.open(url.set(drivername="postgresql").render_as_string(hide_password=False))
