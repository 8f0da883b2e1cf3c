"""Account deletion in the collection database: remove a user's cigars and remember the user as deleted."""

from __future__ import annotations

from sqlalchemy import delete, select

from service_kit.db.session import SessionUnitOfWork

from .models import CigarRow, DeletedUserRow
from .writes import lock_cigars


class SqlAccounts(SessionUnitOfWork):
    """Deleted accounts, in one transaction. (The cigar calls need no session: each is one autocommit
    statement, cigars.py.)"""

    async def is_deleted(self, user_id: int) -> bool:
        return (
            await self._session.scalar(select(DeletedUserRow.user_id).where(DeletedUserRow.user_id == user_id))
            is not None
        )

    async def delete_account(self, user_id: int) -> int:
        """Delete the user's cigars and record the deletion; safe to repeat. Returns the cigars deleted.
        Waits for cigar writes in flight, and holds new ones until the commit (writes.py)."""
        await lock_cigars(self._session, "SHARE ROW EXCLUSIVE")
        result = await self._session.execute(delete(CigarRow).where(CigarRow.owner_id == user_id))
        if not await self.is_deleted(user_id):
            self._session.add(DeletedUserRow(user_id=user_id))
        await self._session.flush()
        return result.rowcount or 0  # type: ignore[attr-defined]
