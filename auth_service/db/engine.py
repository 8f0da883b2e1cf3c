"""Engine construction for SQLite (embedded default) and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine

# WAL lets readers run beside the writer. With WAL, synchronous=NORMAL syncs at checkpoints instead of on
# every commit: still never corrupt, but a power cut (not a crash of this process) may lose the last commits
# (README "Performance"). busy_timeout makes concurrent writers wait for the lock instead of failing with
# "database is locked". Every connection gets them: SQLAlchemy's (engine below) and the driver's (driver.py).
SQLITE_PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=NORMAL",
    "PRAGMA busy_timeout=5000",
    "PRAGMA foreign_keys=ON",
)


def create_engine(database_url: str) -> AsyncEngine:
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite":
        # No overflow: a connection opened past the pool is closed again on return, and under load that
        # churn (a PostgreSQL backend started per request) cost more than waiting for a pooled one (README).
        return create_async_engine(url, pool_size=10, max_overflow=0, pool_pre_ping=True)
    if url.database and url.database != ":memory:":
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_async_engine(url)

    @event.listens_for(engine.sync_engine, "connect")
    def _sqlite_pragmas(dbapi_connection, _record):  # type: ignore[no-untyped-def]
        cursor = dbapi_connection.cursor()
        for pragma in SQLITE_PRAGMAS:
            cursor.execute(pragma)
        cursor.close()

    return engine


def session_factory(engine: AsyncEngine) -> async_sessionmaker:
    return async_sessionmaker(engine, expire_on_commit=False)
