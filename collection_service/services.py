"""Use cases of collection_service: find, read, add, change and remove cigars; list the caller's own."""

from __future__ import annotations

import logging
from typing import Protocol

from . import paging
from .domain import (
    ACCOUNT_DELETED,
    Cigar,
    CigarFields,
    CigarFilter,
    CigarNotFound,
    CigarPage,
    CigarPatch,
    InvalidToken,
    NotCigarOwner,
    PageRequest,
)
from .validation import check_cigar, check_filter, check_patch, page_size

log = logging.getLogger(__name__)


class CigarStore(Protocol):
    """The cigars, and which owners' accounts are deleted. Each call is one atomic statement: the use cases
    below never need two writes to agree, so there is no transaction to hold open across calls."""

    async def find(self, f: CigarFilter, after_id: int, skip: int, limit: int) -> list[Cigar]: ...
    async def get(self, cigar_id: int) -> Cigar | None: ...
    async def list_by_owner(self, owner_id: int) -> list[Cigar]: ...
    async def add(self, owner_id: int, fields: CigarFields) -> Cigar | None:
        """The new cigar, or None when the owner's account is deleted (nothing is added then)."""

    async def update_owned(self, cigar_id: int, owner_id: int, changes: dict[str, str | int]) -> Cigar | None: ...
    async def delete_owned(self, cigar_id: int, owner_id: int) -> bool: ...
    async def owner_deleted(self, owner_id: int) -> bool: ...


class Authenticator(Protocol):
    """Turns the `authorization` metadata into the caller's user id, or raises InvalidToken."""

    async def user_id(self, authorization: str | None) -> int: ...


class CollectionService:
    """Tokens are verified offline, so a deleted user's token still verifies until it expires. Such a user
    owns no cigars and cannot add one (the store refuses), so the deletion is looked up only when a call
    by a token found nothing of its owner's: then the answer is 401, not 403/404 or an empty list."""

    def __init__(self, cigars: CigarStore, auth: Authenticator) -> None:
        self._cigars = cigars
        self._auth = auth

    async def list_cigars(self, f: CigarFilter, page: PageRequest) -> CigarPage:
        size = page_size(page)
        check_filter(f)
        after_id = paging.decode(page.page_token, f)
        # One row more than asked says whether a next page exists without a COUNT.
        rows = await self._cigars.find(f, after_id, page.skip, size + 1)
        cigars = rows[:size]
        token = paging.encode(cigars[-1].id, f) if len(rows) > size else ""
        return CigarPage(cigars, token)

    async def get_cigar(self, cigar_id: int) -> Cigar:
        cigar = await self._cigars.get(cigar_id)
        if cigar is None:
            raise CigarNotFound(cigar_id)
        return cigar

    async def create_cigar(self, authorization: str | None, fields: CigarFields) -> Cigar:
        owner_id = await self._auth.user_id(authorization)
        check_cigar(fields)
        cigar = await self._cigars.add(owner_id, fields)
        if cigar is None:
            raise InvalidToken(ACCOUNT_DELETED)
        log.info("created cigar id=%d owner=%d", cigar.id, owner_id)
        return cigar

    async def update_cigar(self, authorization: str | None, cigar_id: int, patch: CigarPatch) -> Cigar:
        """The patch is already validated field by field (no rule spans two fields), so one conditional
        UPDATE applies it atomically: a concurrent update or delete can never leave a mixed row."""
        owner_id = await self._auth.user_id(authorization)
        changes = check_patch(patch).changes()
        if changes:
            cigar = await self._cigars.update_owned(cigar_id, owner_id, changes)
        else:  # nothing to change: still answer 404/403 like a real update would
            found = await self._cigars.get(cigar_id)
            cigar = found if found is not None and found.owner_id == owner_id else None
        if cigar is None:
            raise await self._why_not_owned(owner_id, cigar_id)
        log.info("updated cigar id=%d fields=%s", cigar_id, ",".join(changes))
        return cigar

    async def delete_cigar(self, authorization: str | None, cigar_id: int) -> None:
        owner_id = await self._auth.user_id(authorization)
        if not await self._cigars.delete_owned(cigar_id, owner_id):
            raise await self._why_not_owned(owner_id, cigar_id)
        log.info("deleted cigar id=%d owner=%d", cigar_id, owner_id)

    async def list_my_cigars(self, authorization: str | None) -> list[Cigar]:
        owner_id = await self._auth.user_id(authorization)
        cigars = await self._cigars.list_by_owner(owner_id)
        if not cigars and await self._cigars.owner_deleted(owner_id):
            raise InvalidToken(ACCOUNT_DELETED)
        return cigars

    async def _why_not_owned(self, owner_id: int, cigar_id: int) -> Exception:
        """A write matched no row of the caller's: the caller's account is deleted, the cigar does not
        exist, or it is someone else's."""
        if await self._cigars.owner_deleted(owner_id):
            return InvalidToken(ACCOUNT_DELETED)
        return NotCigarOwner(cigar_id) if await self._cigars.get(cigar_id) else CigarNotFound(cigar_id)
