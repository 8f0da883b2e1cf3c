"""Users in the database: the repository of a unit of work, and the lookup that reads outside one. Both read
a user with the same statement (_GET)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Integer, Row, bindparam, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from service_kit.db.driver import Driver, Statements

from ...domain import EmailTaken, NewUser, User, UsernameTaken
from .models import UserRow


def _to_domain(row: UserRow | Row[Any]) -> User:  # a Core Row has the same attributes
    return User(
        id=row.id, username=row.username, email=row.email, hashed_password=row.hashed_password,
        email_verified=row.email_verified, token_version=row.token_version,
    )  # fmt: skip


_GET = select(
    UserRow.id, UserRow.username, UserRow.email, UserRow.hashed_password, UserRow.email_verified,
    UserRow.token_version, UserRow.deleted_at,
).where(UserRow.id == bindparam("id", type_=Integer))  # fmt: skip


def _live_user(row: Sequence[Any]) -> User | None:
    """A row of _GET, from a session or the driver (both index by position); None for a deleted user,
    whose row is kept, scrubbed."""
    user_id, username, email, hashed_password, email_verified, token_version, deleted_at = row
    if deleted_at is not None:
        return None
    return User(id=user_id, username=username, email=email, hashed_password=hashed_password,
                email_verified=bool(email_verified), token_version=token_version)  # fmt: skip


class SqlUserLookup:
    """The hot path of every authenticated call: one autocommit SELECT on the statement driver."""

    def __init__(self, driver: Driver) -> None:
        self._statements = Statements(driver)

    async def get(self, user_id: int) -> User | None:
        rows = await self._statements.fetch("get", lambda: _GET, {"id": user_id})
        return _live_user(rows[0]) if rows else None


class SqlUserRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def get(self, user_id: int) -> User | None:
        conn = await self._session.connection()  # Core on the session's connection: no ORM instance
        row = (await conn.execute(_GET, {"id": user_id})).first()
        return _live_user(row) if row else None

    async def get_by_username(self, username: str) -> User | None:
        if "\x00" in username:  # PostgreSQL text cannot hold NUL (it would raise), and no username has one
            return None
        row = await self._session.scalar(select(UserRow).where(UserRow.username_key == username.casefold()))
        return _to_domain(row) if row else None

    async def email_exists(self, email: str, other_than: int | None = None) -> bool:
        # lower() on both sides, in SQL: the comparison is the unique index's own (uq_users_email_lower)
        query = select(UserRow.id).where(func.lower(UserRow.email) == func.lower(email))
        if other_than is not None:
            query = query.where(UserRow.id != other_than)
        return await self._session.scalar(query.limit(1)) is not None

    async def set_password_hash(self, user_id: int, hashed_password: str) -> None:
        await self._session.execute(
            update(UserRow).where(UserRow.id == user_id).values(hashed_password=hashed_password)
        )

    async def change_password(self, user_id: int, hashed_password: str) -> int:
        """The new hash, and a token version one higher (returned): every token issued before is revoked."""
        version = await self._session.scalar(
            update(UserRow)
            .where(UserRow.id == user_id)
            .values(hashed_password=hashed_password, token_version=UserRow.token_version + 1)
            .returning(UserRow.token_version)
        )
        if version is None:
            raise LookupError(f"no user id={user_id}")  # the caller holds a live user's id: never here
        return int(version)

    async def raise_token_version(self, user_id: int) -> int:
        """A token version one higher (returned), the password unchanged: every token issued before is revoked."""
        version = await self._session.scalar(
            update(UserRow)
            .where(UserRow.id == user_id)
            .values(token_version=UserRow.token_version + 1)
            .returning(UserRow.token_version)
        )
        if version is None:
            raise LookupError(f"no user id={user_id}")  # the caller holds a live user's id: never here
        return int(version)

    async def get_by_email(self, email: str) -> User | None:
        """The live user with this email in any letter case (deleted users' addresses are scrubbed)."""
        row = await self._session.scalar(select(UserRow).where(func.lower(UserRow.email) == func.lower(email)))
        return _to_domain(row) if row is not None and row.deleted_at is None else None

    async def update_email(self, user_id: int, email: str) -> None:
        """A new address is unverified until proven. A race on the unique index still ends as EmailTaken."""
        try:
            await self._session.execute(
                update(UserRow).where(UserRow.id == user_id).values(email=email, email_verified=False)
            )
        except IntegrityError as exc:
            await self._session.rollback()
            raise EmailTaken() from exc

    async def set_email_verified(self, user_id: int) -> None:
        await self._session.execute(update(UserRow).where(UserRow.id == user_id).values(email_verified=True))

    async def delete(self, user_id: int, now: datetime) -> None:
        """Scrub the row instead of removing it: the id stays taken, the username and email become free."""
        await self._session.execute(
            update(UserRow)
            .where(UserRow.id == user_id)
            .values(
                username="",
                username_key=f"#deleted-{user_id}",
                email=f"deleted-{user_id}@deleted.invalid",
                hashed_password="",
                email_verified=False,
                deleted_at=now,
            )  # fmt: skip
        )

    async def add(self, new: NewUser) -> User:
        row = UserRow(
            username=new.username,
            username_key=new.username.casefold(),
            email=new.email,
            hashed_password=new.hashed_password,
        )
        self._session.add(row)
        try:
            await self._session.flush()
        except IntegrityError as exc:
            # Lost a race against a concurrent registration: the unique index is the real guard.
            await self._session.rollback()
            raise EmailTaken() if "email" in str(exc.orig) else UsernameTaken() from exc
        return _to_domain(row)
