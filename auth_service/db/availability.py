"""Tell "the database cannot be reached right now" (retryable: UNAVAILABLE) from every other database error."""

from __future__ import annotations

from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout

# SQLSTATEs of a server that is going away, not up yet or full: class 08 (connection exception),
# 57P01 admin_shutdown, 57P02 crash_shutdown, 57P03 cannot_connect_now, 53300 too_many_connections.
_UNAVAILABLE_STATES = ("57P01", "57P02", "57P03", "53300")


def database_unavailable(exc: BaseException) -> bool:
    """True when the error says the database is down or restarting, so the same request may work later."""
    if isinstance(exc, PoolTimeout | OSError):  # no free connection in time; connection refused or reset
        return True
    if not isinstance(exc, DBAPIError):
        return False
    if exc.connection_invalidated:
        return True
    state = getattr(exc.orig, "sqlstate", None) or ""
    if state.startswith("08") or state in _UNAVAILABLE_STATES:
        return True
    # asyncpg reports a connection that died mid-query as an InterfaceError or an OSError underneath.
    cause = exc.orig.__cause__ if exc.orig is not None else None
    return isinstance(cause, OSError | ConnectionError) or "connection is closed" in str(exc.orig)
