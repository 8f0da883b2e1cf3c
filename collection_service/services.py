"""Use cases of collection_service: list cigars, add one to the caller's collection, list the caller's own."""

from __future__ import annotations

import logging
from typing import Protocol

from .domain import Cigar, CigarFields
from .validation import check_cigar, check_page

log = logging.getLogger(__name__)


class CigarRepository(Protocol):
    async def list(self, skip: int, limit: int) -> list[Cigar]: ...
    async def list_by_owner(self, owner_id: int) -> list[Cigar]: ...
    async def add(self, owner_id: int, fields: CigarFields) -> Cigar: ...


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


class CollectionService:
    def __init__(self, uow: UnitOfWorkFactory, auth: Authenticator) -> None:
        self._uow = uow
        self._auth = auth

    async def list_cigars(self, skip: int, limit: int | None) -> list[Cigar]:
        skip, limit = check_page(skip, limit)
        async with self._uow() as uow:
            return await uow.cigars.list(skip, limit)

    async def create_cigar(self, authorization: str | None, fields: CigarFields) -> Cigar:
        owner_id = await self._auth.user_id(authorization)
        check_cigar(fields)
        async with self._uow() as uow:
            cigar = await uow.cigars.add(owner_id, fields)
            await uow.commit()
        log.info("created cigar id=%d owner=%d", cigar.id, owner_id)
        return cigar

    async def list_my_cigars(self, authorization: str | None) -> list[Cigar]:
        owner_id = await self._auth.user_id(authorization)
        async with self._uow() as uow:
            return await uow.cigars.list_by_owner(owner_id)
