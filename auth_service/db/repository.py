"""UserRepository and unit of work over SQLAlchemy; nothing commits behind the caller's back."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from types import TracebackType
from typing import Any

from sqlalchemy import Integer, Row, bindparam, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ..domain import EmailTaken, NewUser, User, UsernameTaken
from .counters import SqlLoginCounters
from .driver import Driver
from .models import UserRow
from .outbox import SqlEmailVerifications, SqlOutbox


def _to_domain(row: UserRow | Row) -> User:  # a Core Row has the same attributes
    return User(
        id=row.id, username=row.username, email=row.email, hashed_password=row.hashed_password,
        email_verified=row.email_verified,
    )  # fmt: skip


_GET = select(
    UserRow.id, UserRow.username, UserRow.email, UserRow.hashed_password, UserRow.email_verified, UserRow.deleted_at
).where(UserRow.id == bindparam("id", type_=Integer))


def _live_user(row: Sequence[Any]) -> User | None:
    """A row of _GET, from a session or the driver (both index by position); None for a deleted user,
    whose row is kept, scrubbed."""
    user_id, username, email, hashed_password, email_verified, deleted_at = row
    if deleted_at is not None:
        return None
    return User(id=user_id, username=username, email=email, hashed_password=hashed_password,
                email_verified=bool(email_verified))  # fmt: skip


class SqlUserLookup:
    """The hot path of GET /users/me/: one autocommit SELECT on the driver (db/driver.py), compiled once."""

    def __init__(self, driver: Driver) -> None:
        self._driver = driver
        compiled = _GET.compile(dialect=driver.dialect)
        self._sql, self._names = str(compiled), tuple(compiled.positiontup or ())  # placeholders' parameters

    async def get(self, user_id: int) -> User | None:
        params = {"id": user_id}
        rows = await self._driver.fetch(self._sql, [params[name] for name in self._names])
        return _live_user(rows[0]) if rows else None


class SqlUserRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def get(self, user_id: int) -> User | None:
        # Hot path of GET /users/me/: Core on the session's connection, no ORM instance (README "Performance").
        conn = await self._session.connection()
        row = (await conn.execute(_GET, {"id": user_id})).first()
        return _live_user(row) if row else None

    async def get_by_username(self, username: str) -> User | None:
        if "\x00" in username:  # PostgreSQL text cannot hold NUL (it would raise), and no username has one
            return None
        row = await self._session.scalar(select(UserRow).where(UserRow.username_key == username.casefold()))
        return _to_domain(row) if row else None

    async def email_exists(self, email: str) -> bool:
        return await self._session.scalar(select(UserRow.id).where(UserRow.email == email)) is not None

    async def set_password_hash(self, user_id: int, hashed_password: str) -> None:
        await self._session.execute(
            update(UserRow).where(UserRow.id == user_id).values(hashed_password=hashed_password)
        )

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


class SqlUnitOfWork:
    """`async with uow:` opens a session; `await uow.commit()` or leaving the block rolls back."""

    def __init__(self, sessions: async_sessionmaker) -> None:
        self._sessions = sessions

    async def __aenter__(self) -> SqlUnitOfWork:
        self._session: AsyncSession = self._sessions()
        self.users = SqlUserRepository(self._session)
        self.counters = SqlLoginCounters(self._session)
        self.outbox = SqlOutbox(self._session)
        self.verifications = SqlEmailVerifications(self._session)
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self._session.rollback()
        await self._session.close()

    async def commit(self) -> None:
        await self._session.commit()
