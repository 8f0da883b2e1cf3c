"""Refresh tokens and their families (sessions), and password reset tokens: all stored as SHA-256 hashes."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from ...domain import RefreshRecord, ResetRecord
from .models import PasswordResetRow, RefreshFamilyRow, RefreshTokenRow, aware


class SqlRefreshTokens:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def start_family(self, family_id: str, user_id: int, now: datetime, expires_at: datetime) -> None:
        self._session.add(RefreshFamilyRow(id=family_id, user_id=user_id, created_at=now, expires_at=expires_at))
        await self._session.flush()

    async def add(self, token_hash: str, family_id: str, now: datetime) -> None:
        self._session.add(RefreshTokenRow(token_hash=token_hash, family_id=family_id, created_at=now))
        await self._session.flush()

    async def get(self, token_hash: str) -> RefreshRecord | None:
        """The token and its family, the family's row locked (PostgreSQL) until the unit of work ends: two
        refreshes of one session take turns, so the second sees the first's rotation."""
        family = await self._session.scalar(
            select(RefreshFamilyRow)
            .join(RefreshTokenRow, RefreshTokenRow.family_id == RefreshFamilyRow.id)
            .where(RefreshTokenRow.token_hash == token_hash)
            .with_for_update(of=RefreshFamilyRow)
        )
        if family is None:
            return None
        token = await self._session.get(RefreshTokenRow, token_hash, populate_existing=True)
        if token is None:  # never: the join found it
            return None
        return RefreshRecord(
            family_id=family.id, user_id=family.user_id, created_at=aware(token.created_at),
            used_at=aware(token.used_at), family_expires_at=aware(family.expires_at),
            family_revoked_at=aware(family.revoked_at),
        )  # fmt: skip

    async def mark_used(self, token_hash: str, now: datetime) -> bool:
        """True only for the one caller that used it first (also on SQLite, which has no FOR UPDATE)."""
        result = await self._session.execute(
            update(RefreshTokenRow)
            .where(RefreshTokenRow.token_hash == token_hash, RefreshTokenRow.used_at.is_(None))
            .values(used_at=now)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def revoke_family(self, family_id: str, now: datetime) -> None:
        await self._session.execute(
            update(RefreshFamilyRow)
            .where(RefreshFamilyRow.id == family_id, RefreshFamilyRow.revoked_at.is_(None))
            .values(revoked_at=now)
        )

    async def revoke_user(self, user_id: int, now: datetime) -> None:
        await self._session.execute(
            update(RefreshFamilyRow)
            .where(RefreshFamilyRow.user_id == user_id, RefreshFamilyRow.revoked_at.is_(None))
            .values(revoked_at=now)
        )


class SqlPasswordResets:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, token_hash: str, user_id: int, token_version: int, email: str, expires_at: datetime) -> None:
        self._session.add(PasswordResetRow(token_hash=token_hash, user_id=user_id, token_version=token_version,
                                           email=email, expires_at=expires_at))  # fmt: skip
        await self._session.flush()

    async def get(self, token_hash: str) -> ResetRecord | None:
        row = await self._session.get(PasswordResetRow, token_hash, with_for_update=True)
        if row is None:
            return None
        return ResetRecord(row.user_id, row.token_version, row.email, aware(row.expires_at), aware(row.used_at))

    async def mark_used(self, token_hash: str, now: datetime) -> bool:
        result = await self._session.execute(
            update(PasswordResetRow)
            .where(PasswordResetRow.token_hash == token_hash, PasswordResetRow.used_at.is_(None))
            .values(used_at=now)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]
