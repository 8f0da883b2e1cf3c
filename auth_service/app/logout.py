"""Ending sessions: the caller's current one (logout), or all of them (logout everywhere, and what a password
change, a password reset and an account deletion do as well)."""

from __future__ import annotations

import logging
from datetime import datetime

from ..ports import Clock, UnitOfWork, UnitOfWorkFactory
from .authentication import Authenticator
from .outbox import REVOKE_TOKENS, OutboxDrainer
from .sessions import Sessions

log = logging.getLogger(__name__)


async def end_every_session(uow: UnitOfWork, user_id: int, now: datetime) -> None:
    """In the caller's unit of work, which has raised the user's token version (or deleted the user): every
    refresh token stops at once, and collection_service is told to refuse the older access tokens too."""
    await uow.refresh_tokens.revoke_user(user_id, now)
    await uow.outbox.add(REVOKE_TOKENS, user_id, now)


class Logout:
    def __init__(
        self, uow: UnitOfWorkFactory, auth: Authenticator, sessions: Sessions, drainer: OutboxDrainer, clock: Clock
    ) -> None:
        self._uow = uow
        self._auth = auth
        self._sessions = sessions
        self._drainer = drainer
        self._clock = clock

    async def logout(self, token: str) -> None:
        """The session of this access token ends (its refresh token stops working). The access token itself is
        not revoked: it expires within its short lifetime, and the client throws it away now."""
        verified = await self._auth.token(token)
        user = await self._auth.user(verified)
        if verified.session:  # tokens issued before sessions existed name none: nothing to end
            await self._sessions.end(verified.session)
        log.info("user id=%d logged out of one session", user.id)

    async def logout_all(self, token: str) -> None:
        """Every session ends and every access token issued until now is refused, this one included: at once in
        auth_service, in collection_service through the outbox (usually before we answer)."""
        user = await self._auth.current_user(token)
        async with self._uow() as uow:
            await uow.users.raise_token_version(user.id)
            await end_every_session(uow, user.id, self._clock())
            await uow.commit()
        log.info("user id=%d logged out of every session", user.id)
        await self._drainer.drain_once()
