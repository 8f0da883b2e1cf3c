"""Startup check of the database URL: well-formed, reachable, and migrated to the schema this code needs."""

from __future__ import annotations

import asyncio
import time

from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, SQLAlchemyError

from .engine import create_engine

SUPPORTED = "postgresql+asyncpg://USER:PASSWORD@HOST:5432/DB or sqlite+aiosqlite:///PATH"


class MigrationRefused(Exception):
    """A migration met data it must not change on its own (its message says what and how to resolve it); the
    database stays at the revision before it."""


class DatabaseNotReady(Exception):
    """The database named by the settings cannot be used; the message says why in one line."""


def _current_revision(connection: Connection) -> str | None:
    # Read alembic's table directly: a MigrationContext would log its setup at every start.
    if not inspect(connection).has_table("alembic_version"):
        return None
    return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()


async def database_revision(database_url: str, connect_seconds: float = 5.0) -> str | None:
    """The alembic revision of the database (None if never migrated); DatabaseNotReady if it cannot be used."""
    try:
        url = make_url(database_url)
    except (ArgumentError, ValueError):
        # The URL may hold a password: never echo it back.
        raise DatabaseNotReady(f"not a database URL; expected {SUPPORTED}") from None
    where = url.render_as_string(hide_password=True)
    try:
        engine = create_engine(database_url)
    except (NoSuchModuleError, ModuleNotFoundError, SQLAlchemyError) as exc:
        raise DatabaseNotReady(f"unsupported driver {url.drivername!r} ({exc}); expected {SUPPORTED}") from None
    try:
        async with asyncio.timeout(connect_seconds), engine.connect() as connection:
            return await connection.run_sync(_current_revision)
    except TimeoutError:
        raise DatabaseNotReady(f"no answer from {where} within {connect_seconds:g}s") from None
    except (OSError, SQLAlchemyError) as exc:
        reason = str(getattr(exc, "orig", None) or exc).splitlines()[0]
        raise DatabaseNotReady(f"cannot use {where}: {reason}") from None
    finally:
        await engine.dispose()


async def check_database(database_url: str, *, head: str | None, wait: float = 0.0) -> str | None:
    """Raise DatabaseNotReady unless the database is reachable (and, if `head` is given, at that revision).

    With `wait` > 0 it retries until then: an init step that waits for the migration job.
    """
    deadline = time.monotonic() + wait
    while True:
        try:
            revision = await database_revision(database_url)
            if head is not None and revision != head:
                raise DatabaseNotReady(
                    f"the schema is at revision {revision or 'none (empty database)'}, this code needs "
                    f"{head}: run the migrate command first"
                )
            return revision
        except DatabaseNotReady:
            if time.monotonic() >= deadline:
                raise
            await asyncio.sleep(1.0)
