"""Resending the email verification token: to the caller's own address, throttled, through the outbox."""

from __future__ import annotations

import math

from ..domain import EmailAlreadyVerified, TooManyRequests
from ..ports import Clock, UnitOfWorkFactory
from .authentication import Authenticator
from .mail_limits import MailLimits, mail_key, wait_seconds
from .outbox import MAIL_VERIFICATION, OutboxDrainer


class VerificationResend:
    def __init__(
        self, uow: UnitOfWorkFactory, auth: Authenticator, drainer: OutboxDrainer, clock: Clock, limits: MailLimits
    ) -> None:
        self._uow = uow
        self._auth = auth
        self._drainer = drainer
        self._clock = clock
        self._limits = limits

    async def resend(self, token: str) -> None:
        """A new token by mail, soon after the answer; the earlier ones keep working until they expire."""
        user = await self._auth.current_user(token)
        if user.email_verified:
            raise EmailAlreadyVerified()
        now = self._clock()
        async with self._uow() as uow:
            key = mail_key("resend-account", str(user.id))
            wait = await wait_seconds(uow, key, self._limits.per_account, self._limits.window, now)
            if wait > 0:
                raise TooManyRequests(math.ceil(wait))
            await uow.outbox.add(MAIL_VERIFICATION, user.id, now)
            await uow.commit()
        self._drainer.soon()
