"""Account deletion (issue 3): delete a deleted user's cigars, and refuse that user's tokens afterwards."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Protocol

from .domain import InvalidToken

log = logging.getLogger(__name__)


class Accounts(Protocol):
    async def __aenter__(self) -> Accounts: ...
    async def __aexit__(self, *exc_info: object) -> None: ...
    async def commit(self) -> None: ...
    async def is_deleted(self, user_id: int) -> bool: ...
    async def delete_account(self, user_id: int) -> int: ...


class Verifier(Protocol):
    async def user_id(self, authorization: str | None) -> int: ...


class LiveUsers:
    """An Authenticator that also refuses the tokens of deleted users: tokens are verified offline,
    so without this a deleted user's token would keep working here until it expires."""

    def __init__(self, verifier: Verifier, accounts: Callable[[], Accounts]) -> None:
        self._verifier = verifier
        self._accounts = accounts

    async def user_id(self, authorization: str | None) -> int:
        user_id = await self._verifier.user_id(authorization)
        async with self._accounts() as accounts:
            if await accounts.is_deleted(user_id):
                raise InvalidToken("this account has been deleted")
        return user_id


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
