"""The token endpoint's grants: the password grant (RFC 6749 §4.3: same answer for unknown users, throttled,
rehashing old hashes) and the refresh grant (§6), both of which answer a new refresh token too."""

from __future__ import annotations

from ..domain import (
    EmailNotVerified,
    FieldViolation,
    InvalidCredentials,
    InvalidInput,
    IssuedToken,
    UnsupportedGrantType,
)
from .password_check import PasswordCheck
from .rules import given_password_violations
from .sessions import Sessions

REFRESH_TOKEN_MAX_LENGTH = 200  # ours are 43 characters; anything much longer is not one of ours


class PasswordGrant:
    def __init__(self, passwords: PasswordCheck, sessions: Sessions, allow_unverified: bool = True) -> None:
        self._passwords = passwords
        self._sessions = sessions
        self._allow_unverified = allow_unverified

    async def issue_token(
        self, grant_type: str, username: str, password: str, client_address: str, refresh_token: str = ""
    ) -> IssuedToken:
        if grant_type == "refresh_token":
            return await self._refresh(refresh_token)
        if grant_type not in ("", "password"):
            raise UnsupportedGrantType(grant_type)
        violations = [FieldViolation("username", "is required")] if not username else []
        violations += given_password_violations(password)
        if violations:
            raise InvalidInput(violations)
        user = await self._passwords.check(username, password, client_address)
        if user is None:
            raise InvalidCredentials()
        # after the right password only, so it reveals nothing to someone who does not know it
        if not (self._allow_unverified or user.email_verified):
            raise EmailNotVerified()
        return await self._sessions.start(user)

    async def _refresh(self, refresh_token: str) -> IssuedToken:
        if not refresh_token:
            raise InvalidInput([FieldViolation("refresh_token", "is required")])
        if len(refresh_token) > REFRESH_TOKEN_MAX_LENGTH:
            raise InvalidInput([FieldViolation("refresh_token", f"at most {REFRESH_TOKEN_MAX_LENGTH} characters")])
        return await self._sessions.refresh(refresh_token)
