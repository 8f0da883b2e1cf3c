"""Bearer tokens (RFC 6750) and the JWTs in them: EdDSA with the algorithm pinned, iss/aud/exp checked against
an injected clock (RFC 8725), and a memo of verified tokens so a client's repeated token is verified once."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import NamedTuple, Protocol

import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

ALGORITHM = "EdDSA"
REQUIRED_CLAIMS = ["sub", "iss", "aud", "iat", "exp"]
MEMO_SIZE = 4096  # tokens remembered per verifier: a few hundred KB at most


class TokenRejected(Exception):
    """The credentials do not authenticate anyone; the message is safe to show to the caller."""

    def __init__(self, reason: str = "could not validate credentials") -> None:
        super().__init__(reason)


def bearer_token(authorization: str | None) -> str:
    """The token of an `Authorization: Bearer <token>` value (RFC 6750 §2.1)."""
    if not authorization:
        raise TokenRejected("not authenticated")
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise TokenRejected("not authenticated")
    return token.strip()


class VerifiedToken(NamedTuple):
    user_id: int  # the `sub` claim
    version: int  # the `ver` claim (0 when absent): the user's token version when it was issued
    session: str = ""  # the `sid` claim (empty when absent): the session the token was issued in


class KeySet(Protocol):
    """Public keys by key id. `holds` says whether this very key object is still in the set, without a fetch."""

    async def get(self, kid: str) -> Ed25519PublicKey | None: ...
    def holds(self, key: Ed25519PublicKey) -> bool: ...


class StaticKeySet:
    """The keys of a mapping the owner may change in place (a key removed is no longer trusted)."""

    def __init__(self, keys: Mapping[str, Ed25519PublicKey]) -> None:
        self._keys = keys

    async def get(self, kid: str) -> Ed25519PublicKey | None:
        return self._keys.get(kid)

    def holds(self, key: Ed25519PublicKey) -> bool:
        return any(k is key for k in self._keys.values())


class JwtVerifier:
    """Verifies a token's signature and claims once, then remembers the outcome (user id, key, exp) for that
    exact token: a client sends the same token with every call until it expires, and the signature check is
    most of the cost of an authenticated call (~80 us). A remembered token still has its expiry checked on
    every call, and is verified afresh once the key set no longer holds the very key object that verified it
    (a refreshed set builds new ones; a removed key is gone). Only verified tokens are remembered."""

    def __init__(
        self,
        keys: KeySet,
        issuer: str,
        audience: str,
        clock: Callable[[], datetime],
        memo_size: int = MEMO_SIZE,
    ) -> None:
        self._keys = keys
        self._issuer = issuer
        self._audience = audience
        self._clock = clock
        self._memo: dict[str, tuple[VerifiedToken, Ed25519PublicKey, float]] = {}
        self._memo_size = memo_size

    async def user_id(self, token: str) -> int:
        return (await self.verify(token)).user_id

    async def verify(self, token: str) -> VerifiedToken:
        """The user id and token version; TokenRejected if the token is not valid now. Whatever the key set
        raises (e.g. its source cannot be reached) passes through."""
        known = self._memo.get(token)
        if known is not None and self._keys.holds(known[1]):
            verified, _, exp = known
            if exp <= self._clock().timestamp():
                del self._memo[token]
                raise TokenRejected("token expired")
            return verified
        verified, key, exp = await self._verify(token)
        if len(self._memo) >= self._memo_size:
            del self._memo[next(iter(self._memo))]  # the oldest first
        self._memo[token] = (verified, key, exp)
        return verified

    async def _verify(self, token: str) -> tuple[VerifiedToken, Ed25519PublicKey, float]:
        try:
            kid = jwt.get_unverified_header(token).get("kid")
        except jwt.PyJWTError as exc:
            raise TokenRejected() from exc
        if not isinstance(kid, str) or not kid:
            raise TokenRejected("token has no key id")
        key = await self._keys.get(kid)
        if key is None:
            raise TokenRejected("token signed by an unknown key")
        try:
            # The algorithm list is fixed: the header's "alg" is never trusted (RFC 8725 §3.1).
            claims = jwt.decode(
                token,
                key,
                algorithms=[ALGORITHM],
                issuer=self._issuer,
                audience=self._audience,
                options={"require": REQUIRED_CLAIMS, "verify_exp": False, "verify_iat": False},
            )
        except jwt.PyJWTError as exc:
            raise TokenRejected() from exc
        if claims["exp"] <= self._clock().timestamp():
            raise TokenRejected("token expired")
        version = claims.get("ver", 0)
        if not isinstance(version, int) or isinstance(version, bool) or version < 0:
            raise TokenRejected()
        session = claims.get("sid", "")
        if not isinstance(session, str):
            raise TokenRejected()
        try:
            return VerifiedToken(int(claims["sub"]), version, session), key, claims["exp"]
        except (TypeError, ValueError) as exc:
            raise TokenRejected() from exc
