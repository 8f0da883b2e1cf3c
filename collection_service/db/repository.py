"""CigarRepository and unit of work over SQLAlchemy; nothing commits behind the caller's back."""

from __future__ import annotations

from types import TracebackType

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ..domain import Cigar, CigarFields
from .models import CigarRow


def _to_domain(row: CigarRow) -> Cigar:
    return Cigar(
        id=row.id,
        name=row.name,
        brand=row.brand,
        origin=row.origin,
        flavor_notes=row.flavor_notes,
        rating=row.rating,
        owner_id=row.owner_id,
    )


class SqlCigarRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def list(self, skip: int, limit: int) -> list[Cigar]:
        rows = await self._session.scalars(select(CigarRow).order_by(CigarRow.id).offset(skip).limit(limit))
        return [_to_domain(r) for r in rows]

    async def list_by_owner(self, owner_id: int) -> list[Cigar]:
        rows = await self._session.scalars(select(CigarRow).where(CigarRow.owner_id == owner_id).order_by(CigarRow.id))
        return [_to_domain(r) for r in rows]

    async def add(self, owner_id: int, fields: CigarFields) -> Cigar:
        row = CigarRow(
            name=fields.name,
            brand=fields.brand,
            origin=fields.origin,
            flavor_notes=fields.flavor_notes,
            rating=fields.rating,
            owner_id=owner_id,
        )
        self._session.add(row)
        await self._session.flush()
        return _to_domain(row)


class SqlUnitOfWork:
    """`async with uow:` opens a session; `await uow.commit()` or leaving the block rolls back."""

    def __init__(self, sessions: async_sessionmaker) -> None:
        self._sessions = sessions

    async def __aenter__(self) -> SqlUnitOfWork:
        self._session: AsyncSession = self._sessions()
        self.cigars = SqlCigarRepository(self._session)
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self._session.rollback()
        await self._session.close()

    async def commit(self) -> None:
        await self._session.commit()
