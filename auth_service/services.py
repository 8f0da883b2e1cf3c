"""Use cases of auth_service: register a user, issue a token, read the caller's profile."""

from __future__ import annotations

import asyncio
import logging
from typing import Protocol

from .domain import (
    Cigar,
    EmailTaken,
    FieldViolation,
    InvalidCredentials,
    InvalidInput,
    InvalidToken,
    IssuedToken,
    NewUser,
    Profile,
    UnsupportedGrantType,
    User,
    UsernameTaken,
)
from .passwords import PasswordHasher
from .tokens import TokenIssuer, TokenVerifier, bearer_token
from .validation import check_registration

log = logging.getLogger(__name__)


class UserRepository(Protocol):
    async def get(self, user_id: int) -> User | None: ...
    async def get_by_username(self, username: str) -> User | None: ...
    async def email_exists(self, email: str) -> bool: ...
    async def add(self, new: NewUser) -> User: ...


class UnitOfWork(Protocol):
    users: UserRepository

    async def __aenter__(self) -> UnitOfWork: ...
    async def __aexit__(self, *exc_info: object) -> None: ...
    async def commit(self) -> None: ...


class UnitOfWorkFactory(Protocol):
    def __call__(self) -> UnitOfWork: ...


class CigarDirectory(Protocol):
    """The caller's cigars, as collection_service lists them for the caller's own bearer token."""

    async def list_mine(self, token: str) -> list[Cigar]: ...


class AuthService:
    def __init__(
        self,
        uow: UnitOfWorkFactory,
        hasher: PasswordHasher,
        issuer: TokenIssuer,
        verifier: TokenVerifier,
        cigars: CigarDirectory,
    ) -> None:
        self._uow = uow
        self._hasher = hasher
        self._issuer = issuer
        self._verifier = verifier
        self._cigars = cigars

    async def register_user(self, username: str, email: str, password: str) -> User:
        email = check_registration(username, email, password)
        async with self._uow() as uow:
            # Checked first for a clear answer; the unique indexes still decide a race (see repository).
            if await uow.users.get_by_username(username):
                raise UsernameTaken()
            if await uow.users.email_exists(email):
                raise EmailTaken()
        hashed = await self._hasher.hash(password)
        async with self._uow() as uow:
            user = await uow.users.add(NewUser(username=username, email=email, hashed_password=hashed))
            await uow.commit()
        log.info("registered user id=%d", user.id)
        return user

    async def issue_token(self, grant_type: str, username: str, password: str) -> IssuedToken:
        if grant_type not in ("", "password"):
            raise UnsupportedGrantType(grant_type)
        missing = [
            FieldViolation(f, "is required") for f, v in (("username", username), ("password", password)) if not v
        ]
        if missing:
            raise InvalidInput(missing)
        async with self._uow() as uow:
            user = await uow.users.get_by_username(username)
        # Always verify, against a dummy hash when the user is unknown: same answer, same time.
        if not await self._hasher.verify(password, user.hashed_password if user else None) or user is None:
            raise InvalidCredentials()
        return self._issuer.issue(user.id)

    async def get_profile(self, authorization: str | None) -> Profile:
        token = bearer_token(authorization)
        user_id = self._verifier.verify(token)
        user, cigars = await asyncio.gather(self._load_user(user_id), self._cigars.list_mine(token))
        return Profile(user=user, cigars=cigars)

    async def _load_user(self, user_id: int) -> User:
        async with self._uow() as uow:
            user = await uow.users.get(user_id)
        if user is None:  # a valid token for a user that no longer exists
            raise InvalidToken()
        return user
