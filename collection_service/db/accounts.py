"""Account deletion in the collection database: remove a user's cigars and remember the user as deleted."""

from __future__ import annotations

from types import TracebackType
from typing import Self

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from .models import CigarRow, DeletedUserRow


class SqlAccounts:
    """Deleted accounts, in one transaction: `async with accounts:` opens a session, then
    `await accounts.commit()`; leaving the block without it rolls back. (The cigar calls need no session:
    each is one autocommit statement, repository.py.)"""

    def __init__(self, sessions: async_sessionmaker) -> None:
        self._sessions = sessions

    async def __aenter__(self) -> Self:
        self._session: AsyncSession = self._sessions()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self._session.rollback()
        await self._session.close()

    async def commit(self) -> None:
        await self._session.commit()

    async def is_deleted(self, user_id: int) -> bool:
        return (
            await self._session.scalar(select(DeletedUserRow.user_id).where(DeletedUserRow.user_id == user_id))
            is not None
        )

    async def delete_account(self, user_id: int) -> int:
        """Delete the user's cigars and record the deletion; safe to repeat. Returns the cigars deleted."""
        result = await self._session.execute(delete(CigarRow).where(CigarRow.owner_id == user_id))
        if not await self.is_deleted(user_id):
            self._session.add(DeletedUserRow(user_id=user_id))
        await self._session.flush()
        return result.rowcount or 0  # type: ignore[attr-defined]
