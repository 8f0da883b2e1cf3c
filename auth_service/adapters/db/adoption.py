"""The import of the monolith's users into the users table: explicit ids, the ledger, the id sequence."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

from sqlalchemy import Insert, func, insert, select
from sqlalchemy.exc import DBAPIError

from service_kit.db.availability import lost_write_race
from service_kit.db.explicit_ids import reserve_ids
from service_kit.db.session import SessionUnitOfWork

from ...domain import AdoptedUser, AdoptionOutcome, ImportRaced
from .models import ImportedUserRow, UserRow


class SqlUserAdoption(SessionUnitOfWork):
    async def reserve_ids(self, above: int) -> None:
        await reserve_ids(self._session, UserRow.metadata.tables[UserRow.__tablename__], above)

    async def imported(self, monolith_ids: Collection[int]) -> dict[int, int]:
        wanted = set(monolith_ids)
        if not wanted:
            return {}
        rows = await self._session.execute(
            select(ImportedUserRow.monolith_id, ImportedUserRow.user_id).where(
                ImportedUserRow.monolith_id.between(min(wanted), max(wanted))
            )
        )
        return {m: u for m, u in rows if m in wanted}

    async def clashes(self, users: Sequence[AdoptedUser]) -> dict[int, AdoptionOutcome]:
        if not users:
            return {}
        ids = {u.id for u in users}
        keys = {u.username.casefold(): u.id for u in users}
        emails = {u.email.lower(): u.id for u in users}
        columns = (UserRow.id, UserRow.username_key, func.lower(UserRow.email))
        # Three statements, each on what it can use: the id range and the username key on their indexes; the
        # emails compared without case must scan (lower() folds ASCII only on SQLite). One OR would scan for all.
        rows = [
            *(await self._session.execute(select(*columns).where(UserRow.id.between(min(ids), max(ids))))).all(),
            *(await self._session.execute(select(*columns).where(UserRow.username_key.in_(keys)))).all(),
            *(await self._session.execute(select(*columns).where(func.lower(UserRow.email).in_(emails)))).all(),
        ]
        found: dict[int, AdoptionOutcome] = {}
        for user_id, key, email in rows:
            if user_id in ids:
                found.setdefault(user_id, AdoptionOutcome.ID_TAKEN)
            if key in keys and keys[key] != user_id:
                found.setdefault(keys[key], AdoptionOutcome.USERNAME_TAKEN)
            if email in emails and emails[email] != user_id:
                found.setdefault(emails[email], AdoptionOutcome.EMAIL_TAKEN)
        return found

    async def live(self, user_ids: Collection[int]) -> set[int]:
        rows = await self._session.scalars(
            select(UserRow.id).where(UserRow.id.in_(list(user_ids)), UserRow.deleted_at.is_(None))
        )
        return set(rows)

    async def add(self, users: Sequence[AdoptedUser]) -> None:
        rows = [
            {"id": u.id, "username": u.username, "username_key": u.username.casefold(), "email": u.email,
             "hashed_password": u.hashed_password, "email_verified": u.email_verified}
            for u in users
        ]  # fmt: skip
        await self._write(insert(UserRow), rows)
        await self._write(insert(ImportedUserRow), [{"monolith_id": u.id, "user_id": u.id} for u in users])

    async def add_merges(self, merges: Sequence[tuple[int, int]]) -> None:
        await self._write(insert(ImportedUserRow), [{"monolith_id": m, "user_id": t} for m, t in merges])

    async def _write(self, statement: Insert, rows: list[dict[str, Any]]) -> None:
        try:
            await self._session.execute(statement, rows)
        except DBAPIError as exc:
            if lost_write_race(exc):
                raise ImportRaced() from exc
            raise
