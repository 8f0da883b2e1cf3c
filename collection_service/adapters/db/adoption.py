"""The import of the monolith's cigars into the cigars table: explicit ids, the ledger, the id sequence."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

from sqlalchemy import Insert, insert, select
from sqlalchemy.exc import DBAPIError

from service_kit.db.availability import lost_write_race
from service_kit.db.explicit_ids import reserve_ids, within
from service_kit.db.session import SessionUnitOfWork

from ...domain import Cigar, ImportRaced
from .models import CigarRow, DeletedUserRow, ImportedCigarRow


class SqlCigarAdoption(SessionUnitOfWork):
    async def reserve_ids(self, above: int) -> None:
        await reserve_ids(self._session, CigarRow.metadata.tables[CigarRow.__tablename__], above)

    async def imported(self, cigar_ids: Collection[int]) -> set[int]:
        return await within(self._session, ImportedCigarRow.cigar_id, cigar_ids)

    async def taken(self, cigar_ids: Collection[int]) -> set[int]:
        return await within(self._session, CigarRow.id, cigar_ids)

    async def deleted_owners(self, owner_ids: Collection[int]) -> set[int]:
        found = await self._session.scalars(
            select(DeletedUserRow.user_id).where(DeletedUserRow.user_id.in_(list(owner_ids)))
        )
        return set(found)

    async def add(self, cigars: Sequence[Cigar]) -> None:
        await self._write(insert(CigarRow), [c._asdict() for c in cigars])
        await self._write(insert(ImportedCigarRow), [{"cigar_id": c.id} for c in cigars])

    async def _write(self, statement: Insert, rows: list[dict[str, Any]]) -> None:
        try:
            await self._session.execute(statement, rows)
        except DBAPIError as exc:
            if lost_write_race(exc):
                raise ImportRaced() from exc
            raise
