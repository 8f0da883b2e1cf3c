"""Bearer token verification against auth_service's keys: EdDSA pinned, iss/aud/exp checked (RFC 8725)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import jwt

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


class TokenVerifier:
    def __init__(self, keys: JwksCache, issuer: str, audience: str, clock: Callable[[], datetime]) -> None:
        self._keys = keys
        self._issuer = issuer
        self._audience = audience
        self._clock = clock

    async def user_id(self, authorization: str | None) -> int:
        token = bearer_token(authorization)
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
            return int(claims["sub"])
        except (TypeError, ValueError) as exc:
            raise InvalidToken() from exc
