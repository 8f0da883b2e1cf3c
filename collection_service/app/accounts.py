"""Account deletion: delete a deleted user's cigars and remember the user as deleted. Tokens of deleted
users are refused by the cigar use cases themselves (cigars.py)."""

from __future__ import annotations

import logging
from collections.abc import Callable

from ..ports import DeletedAccounts, TokenVerifier

log = logging.getLogger(__name__)


class AccountDeletion:
    """Authorised by auth_service's purpose-limited deletion token (its own audience), never by an access token."""

    def __init__(self, deletion_tokens: TokenVerifier, accounts: Callable[[], DeletedAccounts]) -> None:
        self._tokens = deletion_tokens
        self._accounts = accounts

    async def delete_my_cigars(self, token: str) -> int:
        user_id = await self._tokens.user_id(token)
        async with self._accounts() as accounts:
            deleted = await accounts.delete_account(user_id)
            await accounts.commit()
        log.info("deleted account user=%d: %d cigar(s) removed", user_id, deleted)
        return deleted
