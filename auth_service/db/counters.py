"""Failed-login counters in the database, so that every auth_service replica sees the same ones."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from ..domain import LoginCounter
from .models import LoginCounterRow


def _aware(value: datetime | None) -> datetime | None:
    # SQLite hands back naive datetimes; everything here is UTC.
    return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value


class SqlLoginCounters:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def get(self, keys: Iterable[str]) -> dict[str, LoginCounter]:
        rows = await self._session.scalars(select(LoginCounterRow).where(LoginCounterRow.key.in_(list(keys))))
        return {
            r.key: LoginCounter(r.key, r.failures, _aware(r.last_failure_at), _aware(r.last_success_at)) for r in rows
        }

    async def record_failure(self, keys: Iterable[str], now: datetime, reset_before: datetime) -> None:
        """One more failure on each key; a counter whose last failure is at or before `reset_before` restarts."""
        for key in keys:
            row = await self._session.get(LoginCounterRow, key, with_for_update=True)
            if row is None:
                self._session.add(LoginCounterRow(key=key, failures=1, last_failure_at=now))
                continue
            stale = row.last_failure_at is None or _aware(row.last_failure_at) <= reset_before  # type: ignore[operator]
            row.failures = 1 if stale else row.failures + 1
            row.last_failure_at = now
        await self._session.flush()

    async def record_success(self, reset: Iterable[str], known: str, now: datetime) -> None:
        """Reset the counters in `reset`; remember that `known` (the account+address pair) logged in."""
        await self._session.execute(
            update(LoginCounterRow).where(LoginCounterRow.key.in_(list(reset))).values(failures=0)
        )
        row = await self._session.get(LoginCounterRow, known)
        if row is None:
            self._session.add(LoginCounterRow(key=known, failures=0, last_success_at=now))
        else:
            row.last_success_at = now
        await self._session.flush()
