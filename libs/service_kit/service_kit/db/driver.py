"""One SQL statement at a time, straight on the database driver: asyncpg or aiosqlite connections in a pool.

A single statement is atomic on its own, so these run in autocommit: no BEGIN/ROLLBACK round trips, no ORM
session, no SQLAlchemy result objects. The SQL itself is still SQLAlchemy Core, compiled once per statement
shape for the driver's dialect (`Statements`). On a hot read this path costs about a tenth of a session's CPU
(docs/performance.md). Multi-statement transactions keep using SQLAlchemy sessions (engine.py).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable, Mapping, Sequence
from typing import Any, Generic, NamedTuple, Protocol, TypeVar, cast

from sqlalchemy.engine import Dialect, make_url
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import SQLCompiler

from .availability import database_unavailable
from .engine import SQLITE_PRAGMAS, sqlite_file

Row = Sequence[Any]
C = TypeVar("C")
POOL_SIZE = 10  # per worker process by default; PostgreSQL's default max_connections is 100
SQLITE_POOL_SIZE = 4  # readers run side by side under WAL; writers queue on the file lock anyway
ACQUIRE_TIMEOUT_SECONDS = 30.0  # as SQLAlchemy's pool: then the caller gets UNAVAILABLE
CONNECT_TIMEOUT_SECONDS = 5.0


class Driver(Protocol):
    @property
    def dialect(self) -> Dialect: ...

    async def fetch(self, sql: str, params: Sequence[Any]) -> list[Row]: ...
    def pool_state(self) -> dict[str, int]: ...
    async def close(self) -> None: ...


class Pool(Generic[C]):
    """At most `size` connections, opened on first need and reused last in, first out. Only a caller that
    finds every connection busy waits, and then at most ACQUIRE_TIMEOUT_SECONDS. Much less than asyncpg's
    own pool does per call (a proxy, a future and a shielded task per statement): ~35-40 against ~60 us of CPU
    per statement even with its reset query turned off (docs/decisions/2026-11-29-statement-pool.md)."""

    def __init__(
        self, connect: Callable[[], Awaitable[C]], size: int, usable: Callable[[C], bool] = lambda conn: True
    ) -> None:
        self._connect = connect
        self._usable = usable
        self._size = size
        self._slots = asyncio.Semaphore(size)
        self._idle: list[C] = []
        self._busy = 0

    async def acquire(self) -> C:
        if self._slots.locked():
            await asyncio.wait_for(self._slots.acquire(), ACQUIRE_TIMEOUT_SECONDS)
        else:
            await self._slots.acquire()  # a free slot: returns at once
        self._busy += 1
        try:
            while self._idle:
                conn = self._idle.pop()
                if self._usable(conn):
                    return conn
            return await self._connect()
        except BaseException:
            self.release(None)
            raise

    def release(self, conn: C | None) -> None:
        """Give the slot back, and the connection with it unless it is None (closed by the caller)."""
        if conn is not None:
            self._idle.append(conn)
        self._busy -= 1
        self._slots.release()

    def take_idle(self) -> list[C]:
        """Remove and return every idle connection (to close them: the database restarted, or shutdown)."""
        idle, self._idle = self._idle, []
        return idle

    def state(self) -> dict[str, int]:
        return {"checked_out": self._busy, "idle": len(self._idle), "size": self._size}


class AsyncpgDriver:
    """asyncpg connections; each keeps its prepared statements, so a statement is parsed once per connection."""

    def __init__(self, dsn: str, size: int = POOL_SIZE) -> None:
        import asyncpg
        from sqlalchemy.dialects.postgresql.asyncpg import dialect

        self.dialect: Dialect = dialect()  # type: ignore[no-untyped-call]
        self._asyncpg = asyncpg
        self._dsn = dsn
        # A connection the server closed while it sat idle (a restart sends each one a goodbye and closes it)
        # is known closed by then: it is dropped at checkout, so no call fails on it after a restart.
        self._pool: Pool[Any] = Pool(self._connect, size, usable=lambda conn: not conn.is_closed())

    async def _connect(self) -> Any:
        return await self._asyncpg.connect(self._dsn, timeout=CONNECT_TIMEOUT_SECONDS)

    async def fetch(self, sql: str, params: Sequence[Any]) -> list[Row]:
        try:
            return await self._fetch(sql, params)
        except self._asyncpg.InternalClientError:
            # Raised before anything is sent: the connection was left mid-protocol, typically by an error
            # the server pushed while it sat idle (a shutdown's goodbye) before its socket closed. The
            # statement never left, so one more try, on a fresh connection, is safe even for a write.
            pass
        try:
            return await self._fetch(sql, params)
        except self._asyncpg.InternalClientError as exc:
            raise ConnectionResetError(f"database connection unusable: {exc}") from exc

    async def _fetch(self, sql: str, params: Sequence[Any]) -> list[Row]:
        conn = await self._pool.acquire()
        try:
            rows: list[Row] = await conn.fetch(sql, *params)
        except BaseException as exc:
            if isinstance(exc, self._asyncpg.PostgresError) and not database_unavailable(exc):
                self._pool.release(conn)  # the server refused the statement; the connection is fine
                raise
            # Cancelled mid-statement, left mid-protocol, or the connection or server is gone: never reuse
            # this connection. If the server went away, the idle ones are dead too: close them all.
            conn.terminate()
            self._pool.release(None)
            if database_unavailable(exc) or isinstance(exc, self._asyncpg.InternalClientError):
                for idle in self._pool.take_idle():
                    idle.terminate()
            raise
        self._pool.release(conn)
        return rows

    def pool_state(self) -> dict[str, int]:
        return self._pool.state()

    async def close(self) -> None:
        for conn in self._pool.take_idle():
            await conn.close(timeout=CONNECT_TIMEOUT_SECONDS)


class AiosqliteDriver:
    """aiosqlite connections in autocommit, each with its own thread: under WAL they read side by side, and
    writers queue on SQLite's lock (busy_timeout). One thread hop per statement."""

    def __init__(self, path: str, size: int = SQLITE_POOL_SIZE) -> None:
        import aiosqlite
        from sqlalchemy.dialects.sqlite.aiosqlite import dialect

        self.dialect: Dialect = dialect()
        self._aiosqlite = aiosqlite
        self._path = path
        self._pool: Pool[Any] = Pool(self._connect, size)
        self._opened: list[Any] = []

    async def _connect(self) -> Any:
        conn = await self._aiosqlite.connect(self._path, isolation_level=None)  # None: autocommit
        self._opened.append(conn)
        for pragma in SQLITE_PRAGMAS:
            await conn.execute(pragma)
        return conn

    async def fetch(self, sql: str, params: Sequence[Any]) -> list[Row]:
        conn = await self._pool.acquire()
        try:
            # SQLite's own errors and a cancelled wait leave the connection usable (its thread finishes).
            return list(await conn.execute_fetchall(sql, params))
        finally:
            self._pool.release(conn)

    def pool_state(self) -> dict[str, int]:
        return self._pool.state()

    async def close(self) -> None:
        """Close every connection, busy ones too (their close queues behind the statement in flight): each
        has a thread of its own that would otherwise keep the process from exiting."""
        self._pool.take_idle()
        for conn in self._opened:
            await conn.close()
        self._opened.clear()


def open_driver(database_url: str, size: int = POOL_SIZE) -> Driver:
    """The driver for a SQLAlchemy URL (postgresql+asyncpg://... or sqlite+aiosqlite:///...); opens nothing
    yet: connections open on first use, so a database that is down at start costs nothing here."""
    path = sqlite_file(database_url)
    if path is not None:
        return AiosqliteDriver(path)
    url = make_url(database_url)
    return AsyncpgDriver(url.set(drivername="postgresql").render_as_string(hide_password=False), size)


class _Compiled(NamedTuple):
    sql: str
    names: tuple[str, ...]  # the bind parameter behind each positional placeholder


class Statements:
    """SQLAlchemy Core statements compiled once per shape for the driver's dialect, then run on the driver with
    their values bound by name. `key` names a shape (e.g. which filters a search uses): a few dozen at most."""

    def __init__(self, driver: Driver) -> None:
        self._driver = driver
        self._compiled: dict[Hashable, _Compiled] = {}

    def compiled(self, key: Hashable, build: Callable[[], ClauseElement]) -> _Compiled:
        found = self._compiled.get(key)
        if found is None:
            c = cast(SQLCompiler, build().compile(dialect=self._driver.dialect))
            found = self._compiled[key] = _Compiled(str(c), tuple(c.positiontup or ()))
        return found

    async def fetch(self, key: Hashable, build: Callable[[], ClauseElement], params: Mapping[str, Any]) -> list[Row]:
        c = self.compiled(key, build)
        return await self._driver.fetch(c.sql, [params[name] for name in c.names])
