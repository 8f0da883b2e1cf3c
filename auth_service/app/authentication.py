"""Who is calling: the one way a use case turns a call's bearer token into the live user."""

from __future__ import annotations

from service_kit.tokens import VerifiedToken

from ..domain import InvalidToken, User
from ..ports import TokenVerifier, UserLookup


class Authenticator:
    """Tokens are verified offline, so a deleted user's token verifies until it expires, and so does one
    issued before a password change: the user read decides. `token` and `user` are the two steps, for
    callers that do other work between them."""

    def __init__(self, tokens: TokenVerifier, users: UserLookup) -> None:
        self._tokens = tokens
        self._users = users

    async def token(self, token: str) -> VerifiedToken:
        return await self._tokens.verify(token)

    async def user(self, verified: VerifiedToken) -> User:
        user = await self._users.get(verified.user_id)
        if user is None:  # a valid token of a user that no longer exists
            raise InvalidToken()
        if verified.version < user.token_version:
            raise InvalidToken("token revoked by a password change: log in again")
        return user

    async def current_user(self, token: str) -> User:
        return await self.user(await self.token(token))
