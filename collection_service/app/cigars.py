"""Use cases of collection_service: find, read, add, change and remove cigars; list the caller's own."""

from __future__ import annotations

import logging

from ..domain import (
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
from ..ports import Callers, CigarStore
from . import paging
from .rules import check_cigar, check_filter, check_patch, page_size

log = logging.getLogger(__name__)


class Cigars:
    """Tokens are verified offline, so a deleted user's token still verifies until it expires. Such a user
    owns no cigars and cannot add one (the store refuses), so the deletion is looked up only when a call
    by a token found nothing of its owner's: then the answer is 401, not 403/404 or an empty list."""

    def __init__(self, cigars: CigarStore, tokens: Callers) -> None:
        self._cigars = cigars
        self._tokens = tokens

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

    async def create_cigar(self, token: str, fields: CigarFields) -> Cigar:
        owner_id = await self._tokens.user_id(token)
        check_cigar(fields)
        cigar = await self._cigars.add(owner_id, fields)
        if cigar is None:
            raise InvalidToken(ACCOUNT_DELETED)
        log.info("created cigar id=%d owner=%d", cigar.id, owner_id)
        return cigar

    async def update_cigar(self, token: str, cigar_id: int, patch: CigarPatch) -> Cigar:
        """The patch is already validated field by field (no rule spans two fields), so one conditional
        UPDATE applies it atomically: a concurrent update or delete can never leave a mixed row."""
        owner_id = await self._tokens.user_id(token)
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

    async def delete_cigar(self, token: str, cigar_id: int) -> None:
        owner_id = await self._tokens.user_id(token)
        if not await self._cigars.delete_owned(cigar_id, owner_id):
            raise await self._why_not_owned(owner_id, cigar_id)
        log.info("deleted cigar id=%d owner=%d", cigar_id, owner_id)

    async def list_my_cigars(self, token: str) -> list[Cigar]:
        owner_id = await self._tokens.user_id(token)
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
