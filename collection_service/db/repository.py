"""CigarRepository and unit of work over SQLAlchemy; nothing commits behind the caller's back."""

from __future__ import annotations

from sqlalchemy import Row, Select, bindparam, delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from ..domain import Cigar, CigarFields, CigarFilter
from .models import CigarRow
from .session import SessionScope

# Hot paths (find, list by owner, add) use SQLAlchemy Core on the session's connection and build Cigar
# straight from the row: the ORM's instance state and unit of work cost more than the query itself here
# (py-spy, README "Performance"). _to_domain reads a Row as it reads a CigarRow.
_CIGAR_COLUMNS = (
    CigarRow.id, CigarRow.name, CigarRow.brand, CigarRow.origin, CigarRow.flavor_notes, CigarRow.rating,
    CigarRow.owner_id,
)  # fmt: skip
_LIST_BY_OWNER = select(*_CIGAR_COLUMNS).where(CigarRow.owner_id == bindparam("owner_id")).order_by(CigarRow.id)
_ADD = insert(CigarRow).returning(*_CIGAR_COLUMNS)


def _like_pattern(text: str) -> str:
    """A LIKE pattern matching `text` anywhere, with the user's own % and _ taken literally."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _filtered(query: Select, f: CigarFilter) -> Select:
    if f.owner_id:
        query = query.where(CigarRow.owner_id == f.owner_id)
    if f.brand:
        query = query.where(CigarRow.brand == f.brand)
    if f.origin:
        query = query.where(CigarRow.origin == f.origin)
    if f.min_rating:
        query = query.where(CigarRow.rating >= f.min_rating)
    if f.q:
        # ILIKE on PostgreSQL; lower() LIKE lower() on SQLite (which folds ASCII letters only).
        query = query.where(CigarRow.name.ilike(_like_pattern(f.q), escape="\\"))
    return query


def find_query(f: CigarFilter, after_id: int, skip: int, limit: int) -> Select:
    """Keyset (`id > after_id`, walked along an index ending in id) then OFFSET `skip` (scripts/bench_list.py)."""
    query = _filtered(select(*_CIGAR_COLUMNS).where(CigarRow.id > after_id), f)
    return query.order_by(CigarRow.id).offset(skip).limit(limit)


def _to_domain(row: CigarRow | Row) -> Cigar:
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

    async def find(self, f: CigarFilter, after_id: int, skip: int, limit: int) -> list[Cigar]:
        conn = await self._session.connection()
        return [_to_domain(r) for r in await conn.execute(find_query(f, after_id, skip, limit))]

    async def get(self, cigar_id: int) -> Cigar | None:
        row = await self._session.get(CigarRow, cigar_id)
        return None if row is None else _to_domain(row)

    async def list_by_owner(self, owner_id: int) -> list[Cigar]:
        conn = await self._session.connection()
        return [_to_domain(r) for r in await conn.execute(_LIST_BY_OWNER, {"owner_id": owner_id})]

    async def add(self, owner_id: int, fields: CigarFields) -> Cigar:
        conn = await self._session.connection()
        values = {
            "name": fields.name,
            "brand": fields.brand,
            "origin": fields.origin,
            "flavor_notes": fields.flavor_notes,
            "rating": fields.rating,
            "owner_id": owner_id,
        }
        return _to_domain((await conn.execute(_ADD, values)).one())

    async def update_owned(self, cigar_id: int, owner_id: int, changes: dict[str, str | int]) -> Cigar | None:
        """One conditional UPDATE ... RETURNING: atomic, and a write from its first statement, so SQLite
        takes its write lock (waiting on busy_timeout) instead of failing to upgrade a stale read."""
        stmt = (
            update(CigarRow)
            .where(CigarRow.id == cigar_id, CigarRow.owner_id == owner_id)
            .values(**changes)
            .returning(CigarRow)
        )
        row = (await self._session.scalars(stmt)).one_or_none()
        return None if row is None else _to_domain(row)

    async def delete_owned(self, cigar_id: int, owner_id: int) -> bool:
        stmt = delete(CigarRow).where(CigarRow.id == cigar_id, CigarRow.owner_id == owner_id).returning(CigarRow.id)
        return (await self._session.execute(stmt)).first() is not None


class SqlUnitOfWork(SessionScope):
    """The cigars of one transaction: `async with uow:`, then `await uow.commit()` or roll back on leaving."""

    def _bind(self, session: AsyncSession) -> None:
        self.cigars = SqlCigarRepository(session)
