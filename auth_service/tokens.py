"""Access tokens: JWTs signed with EdDSA, verified with the algorithm pinned (RFC 8725)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime, timedelta

import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from .domain import InvalidToken, IssuedToken
from .keys import ALGORITHM, SigningKey

Clock = Callable[[], datetime]
REQUIRED_CLAIMS = ["sub", "iss", "aud", "iat", "exp"]


class TokenIssuer:
    def __init__(self, key: SigningKey, issuer: str, audience: str, lifetime: timedelta, clock: Clock) -> None:
        self._key = key
        self._issuer = issuer
        self._audience = audience
        self._lifetime = lifetime
        self._clock = clock

    def issue(self, user_id: int) -> IssuedToken:
        return self.issue_for(user_id, self._audience, self._lifetime)

    def issue_for(self, user_id: int, audience: str, lifetime: timedelta) -> IssuedToken:
        """A token for another audience, e.g. the short-lived account-deletion token: since every
        verifier checks `aud`, no access-token check accepts it and it is useless for anything else."""
        now = self._clock()
        claims = {
            "sub": str(user_id),
            "iss": self._issuer,
            "aud": audience,
            "iat": int(now.timestamp()),
            "exp": int((now + lifetime).timestamp()),
        }
        token = jwt.encode(claims, self._key.private_key, algorithm=ALGORITHM, headers={"kid": self._key.kid})
        return IssuedToken(access_token=token, expires_in=int(lifetime.total_seconds()))


MEMO_SIZE = 4096  # tokens remembered per verifier: a few hundred KB at most


class TokenVerifier:
    """Checks signature, kid, iss, aud and exp against an injected clock; returns the user id.
    A verified token is remembered (user id, key, exp) for the next call with that exact token: a client
    sends the same token until it expires, and the signature check is most of the cost (~80 us). A
    remembered token still has its expiry checked every time, and only while its key is still published.
    Only verified tokens are remembered."""

    def __init__(
        self,
        keys: Mapping[str, Ed25519PublicKey],
        issuer: str,
        audience: str,
        clock: Clock,
        memo_size: int = MEMO_SIZE,
    ) -> None:
        self._keys = keys
        self._issuer = issuer
        self._audience = audience
        self._clock = clock
        self._memo: dict[str, tuple[int, str, Ed25519PublicKey, float]] = {}
        self._memo_size = memo_size

    def verify(self, token: str) -> int:
        known = self._memo.get(token)
        if known is not None and self._keys.get(known[1]) is known[2]:
            if known[3] <= self._clock().timestamp():
                del self._memo[token]
                raise InvalidToken("token expired")
            return known[0]
        user_id, kid, key, exp = self._verify(token)
        if len(self._memo) >= self._memo_size:
            del self._memo[next(iter(self._memo))]  # the oldest first
        self._memo[token] = (user_id, kid, key, exp)
        return user_id

    def _verify(self, token: str) -> tuple[int, str, Ed25519PublicKey, float]:
        try:
            header = jwt.get_unverified_header(token)
            kid = header.get("kid")
            key = self._keys.get(kid) if isinstance(kid, str) else None
            if key is None:
                raise InvalidToken("token signed by an unknown key")
            # The algorithm is pinned to EdDSA: "alg" from the header is never trusted (RFC 8725 §3.1).
            claims = jwt.decode(
                token,
                key,
                algorithms=[ALGORITHM],
                issuer=self._issuer,
                audience=self._audience,
                options={"require": REQUIRED_CLAIMS, "verify_exp": False, "verify_iat": False},
            )
        except jwt.PyJWTError as exc:
            raise InvalidToken() from exc
        if claims["exp"] <= self._clock().timestamp():
            raise InvalidToken("token expired")
        try:
            return int(claims["sub"]), kid, key, claims["exp"]
        except (TypeError, ValueError) as exc:
            raise InvalidToken() from exc


def bearer_token(authorization: str | None) -> str:
    """The token of an `Authorization: Bearer <token>` value (RFC 6750 §2.1)."""
    if not authorization:
        raise InvalidToken("not authenticated")
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise InvalidToken("not authenticated")
    return token.strip()
