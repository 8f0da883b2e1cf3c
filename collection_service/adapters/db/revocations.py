"""Token revocations in the collection database: appended by RevokeMyTokens, read incrementally by every process."""

from __future__ import annotations

from sqlalchemy import Integer, bindparam, insert, select

from service_kit.db.driver import Driver, Statements

from .models import TokenRevocationRow

_ADD = insert(TokenRevocationRow).values(
    user_id=bindparam("user_id", type_=Integer), min_version=bindparam("min_version", type_=Integer)
)
_SINCE = (
    select(TokenRevocationRow.id, TokenRevocationRow.user_id, TokenRevocationRow.min_version)
    .where(TokenRevocationRow.id > bindparam("after", type_=Integer))
    .order_by(TokenRevocationRow.id)
)


class SqlRevocations:
    def __init__(self, driver: Driver) -> None:
        self._statements = Statements(driver)

    async def add(self, user_id: int, min_version: int) -> None:
        await self._statements.fetch("add", lambda: _ADD, {"user_id": user_id, "min_version": min_version})

    async def since(self, after: int) -> list[tuple[int, int, int]]:
        """(id, user_id, min_version) of every revocation after the one with id `after`, in order."""
        rows = await self._statements.fetch("since", lambda: _SINCE, {"after": after})
        return [(row[0], row[1], row[2]) for row in rows]
