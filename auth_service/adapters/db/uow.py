"""The unit of work of auth_service: one session, every repository on it."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from service_kit.db.session import SessionUnitOfWork

from .counters import SqlLoginCounters
from .outbox import SqlEmailVerifications, SqlOutbox
from .sessions import SqlPasswordResets, SqlRefreshTokens
from .users import SqlUserRepository


class SqlUnitOfWork(SessionUnitOfWork):
    def begin(self, session: AsyncSession) -> None:
        self.users = SqlUserRepository(session)
        self.counters = SqlLoginCounters(session)
        self.outbox = SqlOutbox(session)
        self.verifications = SqlEmailVerifications(session)
        self.refresh_tokens = SqlRefreshTokens(session)
        self.resets = SqlPasswordResets(session)
