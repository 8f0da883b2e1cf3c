"""Sessions kept by refresh tokens (RFC 6749 §6): opaque, stored as hashes, rotated on every use. A token used
twice means it leaked (or a client raced itself): the whole family is revoked (RFC 9700 §4.14.2)."""

from __future__ import annotations

import hashlib
import logging
import secrets
from dataclasses import dataclass
from datetime import timedelta

from ..domain import FieldViolation, InvalidGrant, InvalidInput, IssuedToken, User
from ..ports import Clock, RefreshTokens, TokenIssuer, UnitOfWorkFactory

log = logging.getLogger(__name__)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class SessionPolicy:
    idle: timedelta  # a refresh token unused this long no longer works
    absolute: timedelta  # no session outlives this, however active: the password is asked again


class Sessions:
    def __init__(self, uow: UnitOfWorkFactory, issuer: TokenIssuer, clock: Clock, policy: SessionPolicy) -> None:
        self._uow = uow
        self._issuer = issuer
        self._clock = clock
        self._policy = policy

    async def start(self, user: User) -> IssuedToken:
        """A new session (after a password grant): a new family and its first refresh token."""
        now = self._clock()
        family = secrets.token_hex(16)
        refresh = secrets.token_urlsafe(32)  # 256 bits: guessing one is hopeless, so no throttling is needed
        async with self._uow() as uow:
            await uow.refresh_tokens.start_family(family, user.id, now, now + self._policy.absolute)
            await uow.refresh_tokens.add(token_hash(refresh), family, now)
            await uow.commit()
        return self._issued(user, family, refresh)

    async def refresh(self, refresh_token: str) -> IssuedToken:
        """The next access token and refresh token of the session; InvalidGrant if it ended or the token was
        used before (which ends it: the legitimate holder must log in again, so must a thief)."""
        now = self._clock()
        key = token_hash(refresh_token)
        async with self._uow() as uow:
            found = await uow.refresh_tokens.get(key)
            if found is None or found.family_revoked_at is not None:
                raise InvalidGrant()
            if found.used_at is not None or not await uow.refresh_tokens.mark_used(key, now):
                await self._reuse(uow.refresh_tokens, found.family_id, found.user_id)
                await uow.commit()
                raise InvalidGrant("the refresh token was used before: the session is ended, log in again")
            if found.family_expires_at <= now or found.created_at + self._policy.idle <= now:
                raise InvalidGrant("the session expired: log in again")
            user = await uow.users.get(found.user_id)
            if user is None:
                raise InvalidGrant()
            refresh = secrets.token_urlsafe(32)
            await uow.refresh_tokens.add(token_hash(refresh), found.family_id, now)
            await uow.commit()
        return self._issued(user, found.family_id, refresh)

    async def _reuse(self, tokens: RefreshTokens, family_id: str, user_id: int) -> None:
        await tokens.revoke_family(family_id, self._clock())
        log.warning("refresh token reused: session of user id=%d revoked", user_id)

    async def revoke(self, token: str) -> None:
        """RFC 7009: the session of a refresh token ends; any other string changes nothing, and says nothing."""
        if not token:
            raise InvalidInput([FieldViolation("token", "is required")])
        async with self._uow() as uow:
            found = await uow.refresh_tokens.get(token_hash(token))
            if found is None or found.family_revoked_at is not None:
                return
            await uow.refresh_tokens.revoke_family(found.family_id, self._clock())
            await uow.commit()
        log.info("session of user id=%d revoked", found.user_id)

    async def end(self, family_id: str) -> None:
        """Logging out: the session the caller's access token was issued in ends."""
        async with self._uow() as uow:
            await uow.refresh_tokens.revoke_family(family_id, self._clock())
            await uow.commit()

    def _issued(self, user: User, family: str, refresh: str) -> IssuedToken:
        access = self._issuer.issue(user.id, user.token_version, family)
        return IssuedToken(access.access_token, access.expires_in, access.token_type, refresh_token=refresh)
