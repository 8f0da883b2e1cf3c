"""A collector's file import: many cigars for one owner in one transaction (a session, not the driver)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import insert, select

from service_kit.db.session import SessionUnitOfWork

from ...domain import CigarFields
from .models import CigarRow, DeletedUserRow

BATCH = 1000  # rows per INSERT: within both engines' bound-parameter limits (7 per row)


class SqlOwnCigarImport(SessionUnitOfWork):
    async def owner_deleted(self, owner_id: int) -> bool:
        found = await self._session.scalar(select(DeletedUserRow.user_id).where(DeletedUserRow.user_id == owner_id))
        return found is not None

    async def add_all(self, owner_id: int, cigars: Sequence[CigarFields]) -> list[int]:
        ids: list[int] = []
        statement = insert(CigarRow).returning(CigarRow.id, sort_by_parameter_order=True)
        for start in range(0, len(cigars), BATCH):
            rows = [
                {"name": c.name, "brand": c.brand, "origin": c.origin, "flavor_notes": c.flavor_notes,
                 "rating": c.rating, "owner_id": owner_id}
                for c in cigars[start : start + BATCH]
            ]  # fmt: skip
            ids += (await self._session.scalars(statement, rows)).all()
        return ids
