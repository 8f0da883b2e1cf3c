"""The OAuth2 password grant (RFC 6749 §4.3): same answer for unknown users, throttled, rehashing old hashes."""

from __future__ import annotations

from ..domain import (
    EmailNotVerified,
    FieldViolation,
    InvalidCredentials,
    InvalidInput,
    IssuedToken,
    UnsupportedGrantType,
)
from ..ports import TokenIssuer
from .password_check import PasswordCheck
from .rules import given_password_violations


class PasswordGrant:
    def __init__(self, passwords: PasswordCheck, issuer: TokenIssuer, allow_unverified: bool = True) -> None:
        self._passwords = passwords
        self._issuer = issuer
        self._allow_unverified = allow_unverified

    async def issue_token(self, grant_type: str, username: str, password: str, client_address: str) -> IssuedToken:
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
        return self._issuer.issue(user.id, user.token_version)
