"""Bearer token verification against auth_service's keys: EdDSA pinned, iss/aud/exp checked (RFC 8725)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from .domain import InvalidToken, KeysUnavailable
from .jwks import JwksCache, JwksUnavailable

ALGORITHM = "EdDSA"
REQUIRED_CLAIMS = ["sub", "iss", "aud", "iat", "exp"]


def bearer_token(authorization: str | None) -> str:
    """The token of an `Authorization: Bearer <token>` value (RFC 6750 §2.1)."""
    if not authorization:
        raise InvalidToken("not authenticated")
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise InvalidToken("not authenticated")
    return token.strip()


MEMO_SIZE = 4096  # tokens remembered per verifier: a few hundred KB at most


class TokenVerifier:
    """Verifies a token's signature and claims once, then remembers the outcome (user id, kid, exp) for that
    exact token: a client sends the same token with every call until it expires, and the signature check is
    most of the cost of an authenticated call here (~80 us). A remembered token still has its expiry checked
    on every call, and is verified afresh once the key set no longer holds the very key object that
    verified it (a refresh builds new ones; a removed key is gone). Only verified tokens are remembered."""

    def __init__(
        self, keys: JwksCache, issuer: str, audience: str, clock: Callable[[], datetime], memo_size: int = MEMO_SIZE
    ) -> None:
        self._keys = keys
        self._issuer = issuer
        self._audience = audience
        self._clock = clock
        self._memo: dict[str, tuple[int, Ed25519PublicKey, float]] = {}
        self._memo_size = memo_size

    async def user_id(self, authorization: str | None) -> int:
        token = bearer_token(authorization)
        known = self._memo.get(token)
        if known is not None and self._keys.holds(known[1]):
            user_id, _, exp = known
            if exp <= self._clock().timestamp():
                del self._memo[token]
                raise InvalidToken("token expired")
            return user_id
        user_id, key, exp = await self._verify(token)
        if len(self._memo) >= self._memo_size:
            del self._memo[next(iter(self._memo))]  # the oldest first
        self._memo[token] = (user_id, key, exp)
        return user_id

    async def _verify(self, token: str) -> tuple[int, Ed25519PublicKey, float]:
        try:
            kid = jwt.get_unverified_header(token).get("kid")
        except jwt.PyJWTError as exc:
            raise InvalidToken() from exc
        if not isinstance(kid, str) or not kid:
            raise InvalidToken("token has no key id")
        try:
            key = await self._keys.get(kid)
        except JwksUnavailable as exc:
            raise KeysUnavailable() from exc
        if key is None:
            raise InvalidToken("token signed by an unknown key")
        try:
            # The algorithm list is fixed: the header's "alg" is never trusted.
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
            return int(claims["sub"]), key, claims["exp"]
        except (TypeError, ValueError) as exc:
            raise InvalidToken() from exc
