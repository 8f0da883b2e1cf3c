"""The outbox (calls to collection_service that must eventually happen) and email verification tokens."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from ...domain import OutboxItem, VerificationRecord
from .models import EmailVerificationRow, OutboxRow, aware


class SqlOutbox:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, kind: str, user_id: int, now: datetime) -> None:
        self._session.add(OutboxRow(kind=kind, user_id=user_id, created_at=now, attempts=0, next_attempt_at=now))
        await self._session.flush()

    async def due(self, now: datetime, limit: int) -> list[OutboxItem]:
        rows = await self._session.scalars(
            select(OutboxRow).where(OutboxRow.next_attempt_at <= now).order_by(OutboxRow.id).limit(limit)
        )
        return [OutboxItem(id=r.id, kind=r.kind, user_id=r.user_id, attempts=r.attempts) for r in rows]

    async def claim(self, item_id: int, now: datetime, until: datetime) -> bool:
        """One conditional UPDATE: of concurrent claimers (PostgreSQL re-checks the condition after waiting for the
        row's lock; SQLite runs one writer at a time), only the first still finds the item due."""
        result = await self._session.execute(
            update(OutboxRow)
            .where(OutboxRow.id == item_id, OutboxRow.next_attempt_at <= now)
            .values(next_attempt_at=until)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def done(self, item_id: int) -> None:
        await self._session.execute(delete(OutboxRow).where(OutboxRow.id == item_id))

    async def retry_later(self, item_id: int, next_attempt_at: datetime, error: str) -> None:
        await self._session.execute(
            update(OutboxRow)
            .where(OutboxRow.id == item_id)
            .values(attempts=OutboxRow.attempts + 1, next_attempt_at=next_attempt_at, last_error=error[:200])
        )


class SqlEmailVerifications:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, token_hash: str, user_id: int, email: str, expires_at: datetime) -> None:
        self._session.add(EmailVerificationRow(token_hash=token_hash, user_id=user_id, email=email,
                                               expires_at=expires_at))  # fmt: skip
        await self._session.flush()

    async def get(self, token_hash: str) -> VerificationRecord | None:
        row = await self._session.get(EmailVerificationRow, token_hash, with_for_update=True)
        if row is None:
            return None
        return VerificationRecord(row.user_id, row.email, aware(row.expires_at), aware(row.used_at))

    async def mark_used(self, token_hash: str, now: datetime) -> bool:
        """True only for the one caller that used it first (single use, also under concurrency)."""
        result = await self._session.execute(
            update(EmailVerificationRow)
            .where(EmailVerificationRow.token_hash == token_hash, EmailVerificationRow.used_at.is_(None))
            .values(used_at=now)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]
