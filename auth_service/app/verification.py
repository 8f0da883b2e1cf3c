"""Email verification: a single-use, expiring token sent to the address; only its hash is stored."""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import secrets
from datetime import timedelta

from ..domain import FieldViolation, InvalidInput, User, VerificationTokenInvalid
from ..ports import Clock, EmailSender, UnitOfWorkFactory

log = logging.getLogger(__name__)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class EmailVerification:
    def __init__(
        self, uow: UnitOfWorkFactory, sender: EmailSender, clock: Clock, lifetime: timedelta, link: str
    ) -> None:
        self._uow = uow
        self._sender = sender
        self._clock = clock
        self._lifetime = lifetime
        self._link = link

    async def mail(self, user_id: int) -> str:
        """The outbox's delivery (after a registration, an email change or a resend), to the user's address as it
        is now: raises OSError if the mail server refuses (the outbox tries again later)."""
        async with self._uow() as uow:
            user = await uow.users.get(user_id)
        if user is None:
            return "no verification mail (account deleted)"
        if user.email_verified:
            return "no verification mail (verified meanwhile)"
        await self._mint_and_send(user)
        return "verification mail sent"

    async def _mint_and_send(self, user: User) -> None:
        token = secrets.token_urlsafe(32)  # 256 bits: not guessable, so no throttling is needed on VerifyEmail
        async with self._uow() as uow:
            await uow.verifications.add(_hash(token), user.id, user.email, self._clock() + self._lifetime)
            await uow.commit()
        hours = self._lifetime.total_seconds() / 3600
        body = (
            f"Hello {user.username},\n\nconfirm your email address with this token within {hours:g} hours:\n\n"
            f"{token}\n\n{self._link.format(token=token)}\n\nIf you did not register, ignore this message.\n"
        )
        await self._sender.send(user.email, "Confirm your email address", body)

    async def verify(self, token: str) -> User:
        if not token:
            raise InvalidInput([FieldViolation("token", "is required")])
        now = self._clock()
        async with self._uow() as uow:
            found = await uow.verifications.get(_hash(token))
            if found is None or found.used_at is not None or found.expires_at <= now:
                raise VerificationTokenInvalid()
            user = await uow.users.get(found.user_id)
            if user is None or user.email != found.email:  # deleted, or the address changed since
                raise VerificationTokenInvalid()
            if not await uow.verifications.mark_used(_hash(token), now):
                raise VerificationTokenInvalid()  # someone used it a moment ago
            await uow.users.set_email_verified(user.id)
            await uow.commit()
        log.info("email verified for user id=%d", user.id)
        return dataclasses.replace(user, email_verified=True)
