"""Failed-login counters in the database, so that every auth_service replica sees the same ones."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import case, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from ...domain import LoginCounter
from .models import LoginCounterRow, aware


class SqlLoginCounters:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def get(self, keys: Iterable[str]) -> dict[str, LoginCounter]:
        rows = await self._session.scalars(select(LoginCounterRow).where(LoginCounterRow.key.in_(list(keys))))
        return {
            r.key: LoginCounter(r.key, r.failures, aware(r.last_failure_at), aware(r.last_success_at)) for r in rows
        }

    async def _ensure(self, keys: list[str]) -> None:
        """Create missing rows without failing when a concurrent login creates the same one (both engines
        support INSERT ... ON CONFLICT DO NOTHING), in one statement; the rows are then locked and updated."""
        insert = postgresql.insert if self._session.get_bind().dialect.name == "postgresql" else sqlite.insert
        rows = [{"key": key, "failures": 0} for key in keys]
        await self._session.execute(insert(LoginCounterRow).values(rows).on_conflict_do_nothing(index_elements=["key"]))

    async def lock(self, keys: Iterable[str]) -> dict[str, LoginCounter]:
        """The counters of `keys`, created if missing and locked until the unit of work ends, so that concurrent
        logins of the same account or address read and claim them one after the other. The first statement is
        a write: on SQLite it takes the database's write lock at once (a read first would let two transactions
        read the same counts); on PostgreSQL the rows are locked FOR UPDATE, in one order for everyone."""
        keys = sorted(keys)
        await self._ensure(keys)
        rows = await self._session.scalars(
            select(LoginCounterRow).where(LoginCounterRow.key.in_(keys)).order_by(LoginCounterRow.key).with_for_update()
        )
        return {
            r.key: LoginCounter(r.key, r.failures, aware(r.last_failure_at), aware(r.last_success_at)) for r in rows
        }

    async def record_failure(self, keys: Iterable[str], now: datetime, reset_before: datetime) -> None:
        """One more failure on each key; a counter whose last failure is at or before `reset_before` restarts.
        One UPDATE for all the keys: after `lock` in the same unit of work (a claim), their rows are locked
        already, so it takes no lock in another order."""
        keys = sorted(keys)
        await self._ensure(keys)
        stale = LoginCounterRow.last_failure_at.is_(None) | (LoginCounterRow.last_failure_at <= reset_before)
        await self._session.execute(
            update(LoginCounterRow)
            .where(LoginCounterRow.key.in_(keys))
            .values(failures=case((stale, 1), else_=LoginCounterRow.failures + 1), last_failure_at=now)
            .execution_options(synchronize_session=False)
        )

    async def record_success(self, reset: Iterable[str], refund: Iterable[str], known: str, now: datetime) -> None:
        """Reset the counters in `reset`, take back one claimed failure from those in `refund`, and remember
        that `known` (the account+address pair) logged in. One UPDATE per key, in key order: the order in which
        claims lock them, so that no two logins ever wait for each other in a cycle (PostgreSQL)."""
        reset, refund = set(reset), set(refund)
        await self._ensure([known])
        for key in sorted({*reset, *refund, known}):
            values: dict[str, object] = {}
            if key in reset:
                values["failures"] = 0
            elif key in refund:
                values["failures"] = case((LoginCounterRow.failures > 0, LoginCounterRow.failures - 1), else_=0)
            if key == known:
                values["last_success_at"] = now
            await self._session.execute(update(LoginCounterRow).where(LoginCounterRow.key == key).values(**values))
