"""SQLAlchemy async engines for SQLite (the embedded default) and PostgreSQL, with the settings both need."""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

log = logging.getLogger(__name__)

# WAL lets readers run beside the writer. With WAL, synchronous=NORMAL syncs at checkpoints instead of on
# every commit: still never corrupt, but a power cut (not a crash of this process) may lose the last commits
# (docs/performance.md). busy_timeout makes concurrent writers wait for the lock instead of failing with
# "database is locked". Every connection gets them: SQLAlchemy's (engine below) and the driver's (driver.py).
SQLITE_PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=NORMAL",
    "PRAGMA busy_timeout=5000",
    "PRAGMA foreign_keys=ON",
)


def sqlite_file(database_url: str) -> str | None:
    """The file of a SQLite URL, its folder and the file itself created; None for another database. An
    in-memory SQLite database is refused: it is one database per connection, so a pool would see several."""
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite":
        return None
    if not url.database or url.database == ":memory:":
        raise ValueError("a SQLite file is needed: an in-memory database is one per connection")
    _private_file(Path(url.database))
    return url.database


def _private_file(path: Path) -> None:
    """The database holds what only the service may read (password hashes): create it 0600 whatever the umask
    (SQLite gives its -wal and -shm files the database file's mode), and take group and others' access away
    from an existing one of ours."""
    path.parent.mkdir(parents=True, exist_ok=True)
    os.close(os.open(path, os.O_RDWR | os.O_CREAT, 0o600))
    for file in (path, path.with_name(f"{path.name}-wal"), path.with_name(f"{path.name}-shm")):
        try:
            info = file.stat()
            if stat.S_IMODE(info.st_mode) & 0o077 and info.st_uid == os.geteuid():
                file.chmod(0o600)
                log.warning("%s was readable by other users: made it 0600", file)
        except FileNotFoundError:
            pass


def create_engine(database_url: str, pool_size: int = 10) -> AsyncEngine:
    """An engine for multi-statement transactions. On PostgreSQL, at most `pool_size` connections and no
    overflow: a connection opened past the pool is closed again on return, and under load that churn (a
    PostgreSQL backend started per request) cost more than waiting for a pooled one."""
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite":
        return create_async_engine(url, pool_size=pool_size, max_overflow=0, pool_pre_ping=True)
    if url.database and url.database != ":memory:":
        _private_file(Path(url.database))
    engine = create_async_engine(url)

    @event.listens_for(engine.sync_engine, "connect")
    def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        for pragma in SQLITE_PRAGMAS:
            cursor.execute(pragma)
        cursor.close()

    return engine


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


def engine_pool_state(engine: AsyncEngine) -> dict[str, int]:
    """Connections of the engine's pool by state, for the metrics (SQLite's pools report none)."""
    pool: Any = engine.pool
    state = {}
    for name, reader in (("checked_out", "checkedout"), ("idle", "checkedin"), ("size", "size")):
        if callable(getattr(pool, reader, None)):  # NullPool/StaticPool have none of these
            state[name] = getattr(pool, reader)()
    return state
