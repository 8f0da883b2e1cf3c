"""Registration: a new user with a unique username and email, who starts unverified and is mailed a verification
token through the outbox, after the answer."""

from __future__ import annotations

import logging

from ..domain import EmailTaken, NewUser, User, UsernameTaken
from ..ports import Clock, PasswordHasher, UnitOfWorkFactory
from .outbox import MAIL_VERIFICATION, OutboxDrainer
from .rules import check_registration

log = logging.getLogger(__name__)


class Registration:
    def __init__(self, uow: UnitOfWorkFactory, hasher: PasswordHasher, drainer: OutboxDrainer, clock: Clock) -> None:
        self._uow = uow
        self._hasher = hasher
        self._drainer = drainer
        self._clock = clock

    async def register(self, username: str, email: str, password: str) -> User:
        email = check_registration(username, email, password)
        async with self._uow() as uow:
            # Checked first for a clear answer; the unique indexes still decide a race (see the repository).
            if await uow.users.get_by_username(username):
                raise UsernameTaken()
            if await uow.users.email_exists(email):
                raise EmailTaken()
        hashed = await self._hasher.hash(password)  # outside any transaction: it takes ~20 ms of CPU
        async with self._uow() as uow:
            user = await uow.users.add(NewUser(username=username, email=email, hashed_password=hashed))
            # in the same transaction: the mail is owed as surely as the user exists, and a slow or down
            # mail server neither slows nor fails the registration
            await uow.outbox.add(MAIL_VERIFICATION, user.id, self._clock())
            await uow.commit()
        log.info("registered user id=%d", user.id)
        self._drainer.soon()
        return user
