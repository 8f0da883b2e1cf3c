"""Tell "the database cannot be reached right now" (retryable: UNAVAILABLE) from every other database error."""

from __future__ import annotations

import sqlite3

from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.exc import TimeoutError as PoolTimeout

# SQLSTATEs of a server that is going away, not up yet or full: class 08 (connection exception),
# 57P01 admin_shutdown, 57P02 crash_shutdown, 57P03 cannot_connect_now, 53300 too_many_connections.
_UNAVAILABLE_STATES = ("57P01", "57P02", "57P03", "53300")


def database_unavailable(exc: BaseException) -> bool:
    """True when the error says the database is down, restarting or busy, so the same request may work later.
    Takes SQLAlchemy's errors (sessions) and the drivers' own (driver.py) alike."""
    # no free connection in time (SQLAlchemy's pool, asyncpg's acquire); connection refused or reset
    if isinstance(exc, PoolTimeout | TimeoutError | OSError):
        return True
    if isinstance(exc, DBAPIError):
        if exc.connection_invalidated:
            return True
        exc = exc.orig if exc.orig is not None else exc
    if isinstance(exc, sqlite3.OperationalError):  # another writer held SQLite's lock past busy_timeout
        return "database is locked" in str(exc)
    state = getattr(exc, "sqlstate", None) or ""
    if state.startswith("08") or state in _UNAVAILABLE_STATES:
        return True
    # asyncpg reports a connection that died mid-query as an InterfaceError or an OSError underneath.
    return isinstance(exc.__cause__, OSError | ConnectionError) or "connection is closed" in str(exc)


def lost_write_race(exc: BaseException) -> bool:
    """True when another writer got there first: a unique index refused a row, or SQLite's one write lock was
    held (past busy_timeout, or taken after this transaction had started reading). Running the same work again
    in a new transaction sees the other write."""
    if isinstance(exc, IntegrityError):
        return True
    if isinstance(exc, DBAPIError):
        exc = exc.orig if exc.orig is not None else exc
    return isinstance(exc, sqlite3.OperationalError) and "database is locked" in str(exc)
