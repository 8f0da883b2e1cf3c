"""The caller's own account: read it with its cigars, change the email or the password, delete it. Every change
but a read needs the current password, checked like a login (throttled: a stolen token is not enough)."""

from __future__ import annotations

import asyncio
import dataclasses
import logging

from ..domain import EmailTaken, FieldViolation, InvalidInput, Profile, User, WrongPassword
from ..ports import CigarDirectory, Clock, PasswordHasher, UnitOfWorkFactory
from .authentication import Authenticator
from .logout import end_every_session
from .outbox import DELETE_CIGARS, MAIL_VERIFICATION, OutboxDrainer
from .password_check import PasswordCheck
from .rules import given_password_violations, normalise_email, password_violations

log = logging.getLogger(__name__)


class Profiles:
    def __init__(
        self,
        uow: UnitOfWorkFactory,
        auth: Authenticator,
        passwords: PasswordCheck,
        hasher: PasswordHasher,
        cigars: CigarDirectory,
        drainer: OutboxDrainer,
        clock: Clock,
    ) -> None:
        self._uow = uow
        self._auth = auth
        self._passwords = passwords
        self._hasher = hasher
        self._cigars = cigars
        self._drainer = drainer
        self._clock = clock

    async def get_me(self, token: str) -> Profile:
        """The user and their cigars, read side by side (collection_service is asked with the caller's own
        bearer token). A deleted user is told 401 even while collection_service is down: the user read decides."""
        verified = await self._auth.token(token)
        user, cigars = await asyncio.gather(
            self._auth.user(verified), self._cigars.list_mine(token), return_exceptions=True
        )
        for outcome in (user, cigars):
            if isinstance(outcome, BaseException):
                raise outcome
        assert isinstance(user, User) and isinstance(cigars, list)  # noqa: S101 (narrows gather's union for mypy)
        return Profile(user=user, cigars=cigars)

    async def update_me(self, token: str, email: str | None, current_password: str, client_address: str) -> Profile:
        """Only the fields given change (today: the email, which then needs verifying again)."""
        user = await self._auth.current_user(token)
        if email is not None:
            user = await self._change_email(user, email, current_password, client_address)
        return Profile(user=user, cigars=await self._cigars.list_mine(token))

    async def _confirm(self, user: User, current_password: str, client_address: str) -> None:
        """The caller knows the password: checked, and counted, like a login from their address."""
        violations = given_password_violations(current_password, "current_password")  # present, not too long
        if violations:
            raise InvalidInput(violations)
        if await self._passwords.check(user.username, current_password, client_address) is None:
            raise WrongPassword()

    async def _change_email(self, user: User, email: str, current_password: str, client_address: str) -> User:
        try:
            email = normalise_email(email)
        except ValueError as exc:
            raise InvalidInput([FieldViolation("email", f"not a valid email address: {exc}")]) from exc
        if email == user.email:
            return user
        await self._confirm(user, current_password, client_address)
        async with self._uow() as uow:
            if await uow.users.email_exists(email, other_than=user.id):
                raise EmailTaken()
            await uow.users.update_email(user.id, email)
            await uow.outbox.add(MAIL_VERIFICATION, user.id, self._clock())  # to the new address, after the answer
            await uow.commit()
        self._drainer.soon()
        return dataclasses.replace(user, email=email, email_verified=False)

    async def change_password(self, token: str, current: str, new: str, client_address: str) -> None:
        """Every session ends: every access token issued before, this one included, stops working, in
        auth_service at once (the token version in the user's row), in collection_service through the outbox,
        usually before we answer; every refresh token stops at once."""
        user = await self._auth.current_user(token)
        violations = given_password_violations(current, "current_password")
        violations += password_violations(new, "new_password")
        if violations:
            raise InvalidInput(violations)
        await self._confirm(user, current, client_address)
        hashed = await self._hasher.hash(new)
        async with self._uow() as uow:
            await uow.users.change_password(user.id, hashed)
            await end_every_session(uow, user.id, self._clock())
            await uow.commit()
        log.info("password changed for user id=%d", user.id)
        await self._drainer.drain_once()

    async def delete_me(self, token: str, current_password: str, client_address: str) -> None:
        """The account goes at once; its cigars go through the outbox, now or once collection_service is back."""
        user = await self._auth.current_user(token)
        await self._confirm(user, current_password, client_address)
        async with self._uow() as uow:
            await uow.users.delete(user.id, self._clock())
            await uow.refresh_tokens.revoke_user(user.id, self._clock())
            await uow.outbox.add(DELETE_CIGARS, user.id, self._clock())
            await uow.commit()
        log.info("deleted user id=%d", user.id)
        await self._drainer.drain_once()  # usually done before we answer; if not, the background task retries
