"""Access tokens: JWTs signed with EdDSA by the current key of the ring (verification is service_kit's)."""

from __future__ import annotations

from datetime import timedelta

import jwt

from service_kit.tokens import ALGORITHM

from ..domain import IssuedToken
from ..ports import Clock
from .keys import SigningKey


class JwtIssuer:
    def __init__(self, key: SigningKey, issuer: str, audience: str, lifetime: timedelta, clock: Clock) -> None:
        self._key = key
        self._issuer = issuer
        self._audience = audience
        self._lifetime = lifetime
        self._clock = clock

    def issue(self, user_id: int, version: int, session: str = "") -> IssuedToken:
        """An access token; `ver` is the user's token version, which a password change raises; `sid` the
        session (refresh token family) it was issued in, which logging out ends."""
        extra: dict[str, int | str] = {"ver": version}
        if session:
            extra["sid"] = session
        return self.issue_for(user_id, self._audience, self._lifetime, extra)

    def issue_for(
        self, user_id: int, audience: str, lifetime: timedelta, extra: dict[str, int | str] | None = None
    ) -> IssuedToken:
        """A token for another audience, e.g. the short-lived account-deletion token: since every
        verifier checks `aud`, no access-token check accepts it and it is useless for anything else."""
        now = self._clock()
        claims = {
            "sub": str(user_id),
            "iss": self._issuer,
            "aud": audience,
            "iat": int(now.timestamp()),
            "exp": int((now + lifetime).timestamp()),
            **(extra or {}),
        }
        token = jwt.encode(claims, self._key.private_key, algorithm=ALGORITHM, headers={"kid": self._key.kid})
        return IssuedToken(access_token=token, expires_in=int(lifetime.total_seconds()))
