"""Deleting the rows of ended sessions and expired reset tokens (app/session_pruning.py says which)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from .models import PasswordResetRow, RefreshFamilyRow, RefreshTokenRow


class SqlSessionPruner:
    """Three DELETEs in one transaction of their own, apart from the refreshes' units of work."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def prune(self, now: datetime) -> int:
        family = RefreshFamilyRow
        ended = or_(family.expires_at <= now, family.revoked_at.is_not(None))
        statements = (
            delete(RefreshTokenRow).where(RefreshTokenRow.family_id.in_(select(family.id).where(ended))),
            delete(family).where(ended),
            delete(PasswordResetRow).where(PasswordResetRow.expires_at <= now),
        )
        pruned = 0
        async with self._sessions() as session:
            for statement in statements:
                result = await session.execute(statement)
                pruned += int(getattr(result, "rowcount", 0) or 0)
            await session.commit()
        return pruned
