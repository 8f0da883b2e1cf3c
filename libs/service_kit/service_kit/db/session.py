"""The unit of work over a SQLAlchemy session, and the naming convention every service's tables follow."""

from __future__ import annotations

from types import TracebackType
from typing import Self

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

# Constraint names alembic can find again (SQLite's batch mode needs them to change a table).
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class SessionUnitOfWork:
    """`async with uow:` opens a session (subclasses bind their repositories to it in `begin`);
    `await uow.commit()` commits; leaving the block without it rolls back. Nothing commits behind the
    caller's back."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    def begin(self, session: AsyncSession) -> None:
        """Bind the repositories to the new session."""

    async def __aenter__(self) -> Self:
        self._session = self._sessions()
        self.begin(self._session)
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self._session.rollback()
        await self._session.close()

    async def commit(self) -> None:
        await self._session.commit()
