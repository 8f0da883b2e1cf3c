"""The transaction scope every repository of this service runs in: one session, nothing committed implicitly."""

from __future__ import annotations

from types import TracebackType
from typing import Self

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker


class SessionScope:
    """`async with scope:` opens a session; `await scope.commit()` or leaving the block rolls back.
    Subclasses bind their repositories to the session in `_bind`."""

    def __init__(self, sessions: async_sessionmaker) -> None:
        self._sessions = sessions

    def _bind(self, session: AsyncSession) -> None:
        """Hook: attach what the subclass reads and writes through."""

    async def __aenter__(self) -> Self:
        self._session: AsyncSession = self._sessions()
        self._bind(self._session)
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self._session.rollback()
        await self._session.close()

    async def commit(self) -> None:
        await self._session.commit()
