"""Account deletion (issue 3): delete a deleted user's cigars and remember the user as deleted. Tokens of
deleted users are refused by the use cases themselves (services.CollectionService)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Protocol

log = logging.getLogger(__name__)


class Accounts(Protocol):
    async def __aenter__(self) -> Accounts: ...
    async def __aexit__(self, *exc_info: object) -> None: ...
    async def commit(self) -> None: ...
    async def delete_account(self, user_id: int) -> int: ...


class Verifier(Protocol):
    async def user_id(self, authorization: str | None) -> int: ...


class AccountDeletion:
    """Authorised by auth_service's purpose-limited deletion token (its own audience), never by an access token."""

    def __init__(self, deletion_tokens: Verifier, accounts: Callable[[], Accounts]) -> None:
        self._tokens = deletion_tokens
        self._accounts = accounts

    async def delete_my_cigars(self, authorization: str | None) -> int:
        user_id = await self._tokens.user_id(authorization)
        async with self._accounts() as accounts:
            deleted = await accounts.delete_account(user_id)
            await accounts.commit()
        log.info("deleted account user=%d: %d cigar(s) removed", user_id, deleted)
        return deleted
