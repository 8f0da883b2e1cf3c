"""Use cases of collection_service: find, read, add, change and remove cigars; list the caller's own."""

from __future__ import annotations

import logging
from typing import Protocol

from . import paging
from .domain import Cigar, CigarFields, CigarFilter, CigarNotFound, CigarPage, CigarPatch, NotCigarOwner, PageRequest
from .validation import check_cigar, check_filter, check_patch, page_size

log = logging.getLogger(__name__)


class CigarRepository(Protocol):
    async def find(self, f: CigarFilter, after_id: int, skip: int, limit: int) -> list[Cigar]: ...
    async def get(self, cigar_id: int) -> Cigar | None: ...
    async def list_by_owner(self, owner_id: int) -> list[Cigar]: ...
    async def add(self, owner_id: int, fields: CigarFields) -> Cigar: ...
    async def update_owned(self, cigar_id: int, owner_id: int, changes: dict[str, str | int]) -> Cigar | None: ...
    async def delete_owned(self, cigar_id: int, owner_id: int) -> bool: ...


class UnitOfWork(Protocol):
    cigars: CigarRepository

    async def __aenter__(self) -> UnitOfWork: ...
    async def __aexit__(self, *exc_info: object) -> None: ...
    async def commit(self) -> None: ...


class UnitOfWorkFactory(Protocol):
    def __call__(self) -> UnitOfWork: ...


class Authenticator(Protocol):
    """Turns the `authorization` metadata into the caller's user id, or raises InvalidToken."""

    async def user_id(self, authorization: str | None) -> int: ...


async def _why_not_owned(uow: UnitOfWork, cigar_id: int) -> Exception:
    """A write matched no row of the caller's: either the cigar does not exist or it is someone else's."""
    return NotCigarOwner(cigar_id) if await uow.cigars.get(cigar_id) else CigarNotFound(cigar_id)


class CollectionService:
    def __init__(self, uow: UnitOfWorkFactory, auth: Authenticator) -> None:
        self._uow = uow
        self._auth = auth

    async def list_cigars(self, f: CigarFilter, page: PageRequest) -> CigarPage:
        size = page_size(page)
        check_filter(f)
        after_id = paging.decode(page.page_token, f)
        async with self._uow() as uow:
            # One row more than asked says whether a next page exists without a COUNT.
            rows = await uow.cigars.find(f, after_id, page.skip, size + 1)
        cigars = rows[:size]
        token = paging.encode(cigars[-1].id, f) if len(rows) > size else ""
        return CigarPage(cigars, token)

    async def get_cigar(self, cigar_id: int) -> Cigar:
        async with self._uow() as uow:
            cigar = await uow.cigars.get(cigar_id)
        if cigar is None:
            raise CigarNotFound(cigar_id)
        return cigar

    async def create_cigar(self, authorization: str | None, fields: CigarFields) -> Cigar:
        owner_id = await self._auth.user_id(authorization)
        check_cigar(fields)
        async with self._uow() as uow:
            cigar = await uow.cigars.add(owner_id, fields)
            await uow.commit()
        log.info("created cigar id=%d owner=%d", cigar.id, owner_id)
        return cigar

    async def update_cigar(self, authorization: str | None, cigar_id: int, patch: CigarPatch) -> Cigar:
        """The patch is already validated field by field (no rule spans two fields), so one conditional
        UPDATE applies it atomically: a concurrent update or delete can never leave a mixed row."""
        owner_id = await self._auth.user_id(authorization)
        changes = check_patch(patch).changes()
        async with self._uow() as uow:
            if changes:
                cigar = await uow.cigars.update_owned(cigar_id, owner_id, changes)
            else:  # nothing to change: still answer 404/403 like a real update would
                found = await uow.cigars.get(cigar_id)
                cigar = found if found is not None and found.owner_id == owner_id else None
            if cigar is None:
                raise await _why_not_owned(uow, cigar_id)
            await uow.commit()
        log.info("updated cigar id=%d fields=%s", cigar_id, ",".join(changes))
        return cigar

    async def delete_cigar(self, authorization: str | None, cigar_id: int) -> None:
        owner_id = await self._auth.user_id(authorization)
        async with self._uow() as uow:
            if not await uow.cigars.delete_owned(cigar_id, owner_id):
                raise await _why_not_owned(uow, cigar_id)
            await uow.commit()
        log.info("deleted cigar id=%d owner=%d", cigar_id, owner_id)

    async def list_my_cigars(self, authorization: str | None) -> list[Cigar]:
        owner_id = await self._auth.user_id(authorization)
        async with self._uow() as uow:
            return await uow.cigars.list_by_owner(owner_id)
