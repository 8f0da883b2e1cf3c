"""Who is calling: the one way a use case turns a call's bearer token into the live user."""

from __future__ import annotations

from ..domain import InvalidToken, User
from ..ports import TokenVerifier, UserLookup


class Authenticator:
    """Tokens are verified offline, so a deleted user's token verifies until it expires: the user read
    decides. `user_id` and `user` are the two steps, for callers that do other work between them."""

    def __init__(self, tokens: TokenVerifier, users: UserLookup) -> None:
        self._tokens = tokens
        self._users = users

    async def user_id(self, token: str) -> int:
        return await self._tokens.user_id(token)

    async def user(self, user_id: int) -> User:
        user = await self._users.get(user_id)
        if user is None:  # a valid token of a user that no longer exists
            raise InvalidToken()
        return user

    async def current_user(self, token: str) -> User:
        return await self.user(await self.user_id(token))
