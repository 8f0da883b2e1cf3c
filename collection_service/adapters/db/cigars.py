"""CigarStore over SQL: every operation is one statement, atomic on its own, run by the driver in autocommit.

The statements are SQLAlchemy Core over the models, compiled once per shape (which filters a search uses,
which fields a patch changes) for the driver's dialect; a call binds its values positionally. Rows come
back in the column order of Cigar, so Cigar(*row) builds the domain object.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Integer, Select, String, bindparam, delete, exists, insert, select, update
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.elements import BindParameter

from service_kit.db.driver import Driver, Statements

from ...domain import Cigar, CigarFields, CigarFilter
from .models import CigarRow, DeletedUserRow

_CIGAR_COLUMNS = (
    CigarRow.id, CigarRow.name, CigarRow.brand, CigarRow.origin, CigarRow.flavor_notes, CigarRow.rating,
    CigarRow.owner_id,
)  # fmt: skip
_FIELDS = ("name", "brand", "origin", "flavor_notes", "rating")


def _like_pattern(text: str) -> str:
    """A LIKE pattern matching `text` anywhere, with the user's own % and _ taken literally."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def find_query(f: CigarFilter) -> Select[*tuple[Any, ...]]:
    """Keyset (`id > :after_id`, walked along an index ending in id) then OFFSET :skip (scripts/bench_list.py).
    Only the filters `f` sets appear, so each combination is its own statement (and query plan)."""
    query = select(*_CIGAR_COLUMNS).where(CigarRow.id > bindparam("after_id", type_=Integer))
    if f.owner_id:
        query = query.where(CigarRow.owner_id == bindparam("owner_id", type_=Integer))
    if f.brand:
        query = query.where(CigarRow.brand == bindparam("brand", type_=String))
    if f.origin:
        query = query.where(CigarRow.origin == bindparam("origin", type_=String))
    if f.min_rating:
        query = query.where(CigarRow.rating >= bindparam("min_rating", type_=Integer))
    if f.q:
        # ILIKE on PostgreSQL; lower() LIKE lower() on SQLite (which folds ASCII letters only).
        query = query.where(CigarRow.name.ilike(bindparam("q", type_=String), escape="\\"))
    return query.order_by(CigarRow.id).offset(bindparam("skip", type_=Integer)).limit(bindparam("limit", type_=Integer))


def find_params(f: CigarFilter, after_id: int, skip: int, limit: int) -> dict[str, Any]:
    """The values of find_query(f)'s parameters (the ones a shape leaves out are ignored)."""
    return {"after_id": after_id, "skip": skip, "limit": limit, "owner_id": f.owner_id, "brand": f.brand,
            "origin": f.origin, "min_rating": f.min_rating, "q": _like_pattern(f.q)}  # fmt: skip


def _add() -> ClauseElement:
    """INSERT ... SELECT the values unless the owner's account is deleted: a deleted user's token can
    never add a cigar, and the check costs no extra round trip. A deletion in flight meanwhile waits for
    this insert to commit and then deletes it too (writes.py)."""
    values: list[BindParameter[Any]] = [bindparam(name, type_=String) for name in _FIELDS[:-1]]
    values += [bindparam("rating", type_=Integer), bindparam("owner_id", type_=Integer)]
    alive = ~exists().where(DeletedUserRow.user_id == bindparam("owner_id", type_=Integer))
    return insert(CigarRow).from_select([*_FIELDS, "owner_id"], select(*values).where(alive)).returning(*_CIGAR_COLUMNS)


def _update(fields: tuple[str, ...]) -> ClauseElement:
    """One conditional UPDATE ... RETURNING of the fields a patch changes: atomic, and on SQLite a write
    from its first statement, so it waits for the write lock (busy_timeout) rather than failing."""
    where = (CigarRow.id == bindparam("id", type_=Integer), CigarRow.owner_id == bindparam("owner_id", type_=Integer))
    # "set_" names: a bind parameter may not share its name with a column of the SET clause
    changes: dict[str, BindParameter[Any]] = {name: bindparam(f"set_{name}") for name in fields}
    return update(CigarRow).where(*where).values(changes).returning(*_CIGAR_COLUMNS)


_BY_ID = select(*_CIGAR_COLUMNS).where(CigarRow.id == bindparam("id", type_=Integer))
_BY_OWNER = (
    select(*_CIGAR_COLUMNS).where(CigarRow.owner_id == bindparam("owner_id", type_=Integer)).order_by(CigarRow.id)
)
_PAGE_BY_OWNER = (
    select(*_CIGAR_COLUMNS)
    .where(CigarRow.owner_id == bindparam("owner_id", type_=Integer))
    .where(CigarRow.id > bindparam("after_id", type_=Integer))
    .order_by(CigarRow.id)
    # an explicit OFFSET: SQLite's compiler adds one to every LIMIT, as an anonymous parameter otherwise
    .offset(bindparam("skip", type_=Integer))
    .limit(bindparam("limit", type_=Integer))
)
_DELETE = (
    delete(CigarRow)
    .where(CigarRow.id == bindparam("id", type_=Integer), CigarRow.owner_id == bindparam("owner_id", type_=Integer))
    .returning(CigarRow.id)
)
_IS_DELETED = select(DeletedUserRow.user_id).where(DeletedUserRow.user_id == bindparam("user_id", type_=Integer))


class SqlCigarStore:
    def __init__(self, driver: Driver) -> None:
        self._statements = Statements(driver)

    async def find(self, f: CigarFilter, after_id: int, skip: int, limit: int) -> list[Cigar]:
        shape = ("find", bool(f.owner_id), bool(f.brand), bool(f.origin), bool(f.min_rating), bool(f.q))
        params = find_params(f, after_id, skip, limit)
        return [Cigar(*row) for row in await self._statements.fetch(shape, lambda: find_query(f), params)]

    async def get(self, cigar_id: int) -> Cigar | None:
        rows = await self._statements.fetch("get", lambda: _BY_ID, {"id": cigar_id})
        return Cigar(*rows[0]) if rows else None

    async def list_by_owner(self, owner_id: int) -> list[Cigar]:
        return [
            Cigar(*row) for row in await self._statements.fetch("by_owner", lambda: _BY_OWNER, {"owner_id": owner_id})
        ]

    async def page_by_owner(self, owner_id: int, after_id: int, limit: int) -> list[Cigar]:
        params = {"owner_id": owner_id, "after_id": after_id, "skip": 0, "limit": limit}
        return [Cigar(*row) for row in await self._statements.fetch("page_by_owner", lambda: _PAGE_BY_OWNER, params)]

    async def add(self, owner_id: int, fields: CigarFields) -> Cigar | None:
        params = {"name": fields.name, "brand": fields.brand, "origin": fields.origin,
                  "flavor_notes": fields.flavor_notes, "rating": fields.rating, "owner_id": owner_id}  # fmt: skip
        rows = await self._statements.fetch("add", _add, params)
        return Cigar(*rows[0]) if rows else None

    async def update_owned(self, cigar_id: int, owner_id: int, changes: dict[str, str | int]) -> Cigar | None:
        fields = tuple(name for name in _FIELDS if name in changes)
        params = {"id": cigar_id, "owner_id": owner_id, **{f"set_{name}": changes[name] for name in fields}}
        rows = await self._statements.fetch(("update", fields), lambda: _update(fields), params)
        return Cigar(*rows[0]) if rows else None

    async def delete_owned(self, cigar_id: int, owner_id: int) -> bool:
        return bool(await self._statements.fetch("delete", lambda: _DELETE, {"id": cigar_id, "owner_id": owner_id}))

    async def owner_deleted(self, owner_id: int) -> bool:
        return bool(await self._statements.fetch("is_deleted", lambda: _IS_DELETED, {"user_id": owner_id}))
