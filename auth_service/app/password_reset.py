"""A forgotten password: a reset token by mail (single use, short-lived, stored as its hash), then a new password
under the registration rules, which ends every session. Asking never says whether an account has the address."""

from __future__ import annotations

import hashlib
import logging
import math
import secrets
from datetime import timedelta

from ..domain import FieldViolation, InvalidInput, ResetTokenInvalid, TooManyRequests
from ..ports import Clock, EmailSender, PasswordHasher, UnitOfWorkFactory
from .logout import end_every_session
from .mail_limits import MailLimits, mail_key, wait_seconds
from .outbox import MAIL_PASSWORD_RESET, OutboxDrainer
from .rules import normalise_email, password_violations

log = logging.getLogger(__name__)
TOKEN_MAX_LENGTH = 200


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class PasswordReset:
    def __init__(
        self,
        uow: UnitOfWorkFactory,
        hasher: PasswordHasher,
        sender: EmailSender,
        drainer: OutboxDrainer,
        clock: Clock,
        limits: MailLimits,
        lifetime: timedelta,
        link: str,
    ) -> None:
        self._uow = uow
        self._hasher = hasher
        self._sender = sender
        self._drainer = drainer
        self._clock = clock
        self._limits = limits
        self._lifetime = lifetime
        self._link = link

    async def request(self, email: str, client_address: str) -> None:
        """The same answer, and the same statements, whether an account has this address or not. Too many from
        one client address: TooManyRequests (it says nothing about any account). Too many for one account: no
        further mail, silently. The mail goes through the outbox, after the answer."""
        try:
            email = normalise_email(email)
        except ValueError as exc:
            raise InvalidInput([FieldViolation("email", f"not a valid email address: {exc}")]) from exc
        now, window = self._clock(), self._limits.window
        async with self._uow() as uow:
            wait = await wait_seconds(uow, mail_key("reset-address", client_address), self._limits.per_address,
                                      window, now)  # fmt: skip
            if wait > 0:
                raise TooManyRequests(math.ceil(wait))
            account_wait = await wait_seconds(uow, mail_key("reset-account", email.lower()), self._limits.per_account,
                                              window, now)  # fmt: skip
            user = await uow.users.get_by_email(email)
            if user is not None and account_wait == 0:
                await uow.outbox.add(MAIL_PASSWORD_RESET, user.id, now)
            await uow.commit()
        if user is not None and account_wait == 0:
            self._drainer.soon()

    async def mail(self, user_id: int) -> str:
        """The outbox's delivery: a new token, stored as its hash, mailed. Raises OSError if the mail server
        refuses (the outbox tries again later; the unsent token is never known to anyone)."""
        token = secrets.token_urlsafe(32)
        async with self._uow() as uow:
            user = await uow.users.get(user_id)
            if user is None:
                return "no reset mail (account deleted)"
            await uow.resets.add(_hash(token), user.id, user.token_version, user.email, self._clock() + self._lifetime)
            await uow.commit()
        minutes = self._lifetime.total_seconds() / 60
        body = (
            f"Hello {user.username},\n\nset a new password with this token within {minutes:g} minutes:\n\n"
            f"{token}\n\n{self._link.format(token=token)}\n\n"
            "If you did not ask for this, ignore this message: your password stays as it is.\n"
        )
        await self._sender.send(user.email, "Reset your password", body)
        return "password reset mail sent"

    async def confirm(self, token: str, new_password: str) -> None:
        violations = [] if token else [FieldViolation("token", "is required")]
        if len(token) > TOKEN_MAX_LENGTH:
            violations.append(FieldViolation("token", f"at most {TOKEN_MAX_LENGTH} characters"))
        violations += password_violations(new_password, "new_password")
        if violations:
            raise InvalidInput(violations)
        hashed = await self._hasher.hash(new_password)  # before the transaction: it takes ~20 ms of CPU
        now = self._clock()
        async with self._uow() as uow:
            found = await uow.resets.get(_hash(token))
            if found is None or found.used_at is not None or found.expires_at <= now:
                raise ResetTokenInvalid()
            user = await uow.users.get(found.user_id)
            # a password change (or an earlier reset) since the token was made voids it, and so does an email
            # change: whoever reads the former address must not take the account back
            if user is None or user.token_version != found.token_version or user.email != found.email:
                raise ResetTokenInvalid()
            if not await uow.resets.mark_used(_hash(token), now):
                raise ResetTokenInvalid()  # someone used it a moment ago
            await uow.users.change_password(user.id, hashed)
            await uow.users.set_email_verified(user.id)  # the token came to this address: it is theirs
            await end_every_session(uow, user.id, now)
            await uow.commit()
        log.info("password reset for user id=%d", user.id)
        await self._drainer.drain_once()
