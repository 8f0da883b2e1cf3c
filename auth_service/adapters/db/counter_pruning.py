"""Deleting login counters that no longer change any decision (app/counter_pruning.py says when)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, or_
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from .models import LoginCounterRow


class SqlCounterPruner:
    """One DELETE in its own transaction, apart from the logins' units of work (adapters/db/counters.py)."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def prune(self, failures_before: datetime, successes_before: datetime) -> int:
        """Delete the counters whose last failure is at or before `failures_before` (so their count would start
        from zero anyway) and whose last success, if any, is at or before `successes_before`. Returns how many."""
        row = LoginCounterRow
        stale = delete(row).where(
            or_(row.last_failure_at.is_(None), row.last_failure_at <= failures_before),
            or_(row.last_success_at.is_(None), row.last_success_at <= successes_before),
        )
        async with self._sessions() as session:
            result = await session.execute(stale)
            await session.commit()
        return int(getattr(result, "rowcount", 0) or 0)
