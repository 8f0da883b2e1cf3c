"""What auth_service tells about an account: deleted (its cigars go, and its tokens are refused by the cigar
use cases themselves, cigars.py), or its password changed (its older tokens are refused)."""

from __future__ import annotations

import logging
from collections.abc import Callable

from ..ports import DeletedAccounts, TokenVerifier
from .authentication import Revocations

log = logging.getLogger(__name__)


class AccountEvents:
    """Authorised by auth_service's purpose-limited account token (its own audience), never by an access token."""

    def __init__(
        self, account_tokens: TokenVerifier, accounts: Callable[[], DeletedAccounts], revocations: Revocations
    ) -> None:
        self._tokens = account_tokens
        self._accounts = accounts
        self._revocations = revocations

    async def revoke_my_tokens(self, token: str, min_version: int) -> None:
        user_id = (await self._tokens.verify(token)).user_id
        await self._revocations.record(user_id, min_version)
        log.info("tokens of user=%d below version %d revoked", user_id, min_version)

    async def delete_my_cigars(self, token: str) -> int:
        user_id = (await self._tokens.verify(token)).user_id
        async with self._accounts() as accounts:
            deleted = await accounts.delete_account(user_id)
            await accounts.commit()
        log.info("deleted account user=%d: %d cigar(s) removed", user_id, deleted)
        return deleted
