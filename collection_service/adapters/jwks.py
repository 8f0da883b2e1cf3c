"""auth_service's public keys, fetched over gRPC and cached; refetched on an unknown kid, rate-limited."""

from __future__ import annotations

import asyncio
import base64
import logging
import time
from collections.abc import Awaitable, Callable, Iterable

import grpc
from cigar.auth.v1 import auth_pb2, auth_pb2_grpc
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from ..domain import KeysUnavailable

log = logging.getLogger(__name__)

FetchKeys = Callable[[], Awaitable[Iterable[auth_pb2.Jwk]]]


class JwksUnavailable(Exception):
    """auth_service could not be asked for its keys (one fetch failed)."""


def grpc_fetcher(channel: grpc.aio.Channel, timeout_seconds: float) -> FetchKeys:
    stub = auth_pb2_grpc.AuthServiceStub(channel)

    async def fetch() -> Iterable[auth_pb2.Jwk]:
        try:
            return (await stub.GetJwks(auth_pb2.GetJwksRequest(), timeout=timeout_seconds)).keys
        except grpc.aio.AioRpcError as exc:
            raise JwksUnavailable(exc.code().name) from exc

    return fetch


def _public_key(jwk: auth_pb2.Jwk) -> Ed25519PublicKey | None:
    if jwk.kty != "OKP" or jwk.crv != "Ed25519" or (jwk.alg and jwk.alg != "EdDSA"):
        return None
    try:
        return Ed25519PublicKey.from_public_bytes(base64.urlsafe_b64decode(jwk.x + "=" * (-len(jwk.x) % 4)))
    except ValueError:
        return None


class JwksCache:
    """Keys by kid. A miss triggers at most one fetch at a time and at most one per `min_interval`
    seconds, so a flood of tokens with made-up kids cannot turn into a flood of calls to auth_service.
    A failed fetch may be retried after `retry_after_failure` seconds (at most `min_interval`).
    A successful fetch replaces the set: a key auth_service stops publishing stops being trusted.
    A failed one keeps it: an outage or restart of auth_service does not empty this cache."""

    def __init__(
        self,
        fetch: FetchKeys,
        min_interval: float,
        monotonic: Callable[[], float] = time.monotonic,
        retry_after_failure: float = 1.0,
    ) -> None:
        self._fetch = fetch
        self._min_interval = min_interval
        self._retry_after_failure = min(retry_after_failure, min_interval)
        self._monotonic = monotonic
        self._keys: dict[str, Ed25519PublicKey] = {}
        self._lock = asyncio.Lock()
        self._next_fetch_at = float("-inf")
        self._last_fetch_failed = False

    def holds(self, key: Ed25519PublicKey) -> bool:
        """Whether this very key object is in the key set now (no fetch): false after the key was dropped,
        and after any refresh, which builds new objects."""
        return any(k is key for k in self._keys.values())

    async def get(self, kid: str) -> Ed25519PublicKey | None:
        """The key of `kid`; None if auth_service does not know it either; KeysUnavailable if it is
        unknown here and auth_service could not be asked (the token may well be valid: retry later)."""
        key = self._keys.get(kid)
        if key is not None:
            return key
        async with self._lock:  # single flight: concurrent misses wait for one fetch
            if kid not in self._keys and self._monotonic() >= self._next_fetch_at:
                await self._refresh()
        key = self._keys.get(kid)
        if key is None and self._last_fetch_failed:
            raise KeysUnavailable()
        return key

    async def refresh(self) -> bool:
        """Fetch the key set once (waiting for any fetch in flight); False if auth_service cannot be reached."""
        async with self._lock:
            return await self._refresh()

    async def _refresh(self) -> bool:
        started = self._monotonic()
        self._next_fetch_at = started + self._min_interval
        try:
            jwks = await self._fetch()
        except JwksUnavailable as exc:
            self._next_fetch_at = started + self._retry_after_failure
            self._last_fetch_failed = True
            log.warning("cannot fetch JWKS from auth_service: %s", exc)
            return False
        self._last_fetch_failed = False
        keys = {jwk.kid: key for jwk in jwks if jwk.kid and (key := _public_key(jwk)) is not None}
        if keys.keys() != self._keys.keys():
            log.info("JWKS changed: %d key(s) known", len(keys))
        self._keys = keys
        return True

    async def keep_fresh(
        self, every_seconds: float, retry_seconds: float = 2.0, max_retry_seconds: float = 30.0
    ) -> None:
        """Fetch at start-up (auth_service may start after us, so retry with back-off), then every
        `every_seconds`: a key prepared for rotation is known before the first token signed with it."""
        delay = retry_seconds
        while True:
            if await self.refresh():
                delay = retry_seconds
                await asyncio.sleep(every_seconds)
            else:
                await asyncio.sleep(delay)
                delay = min(delay * 2, max_retry_seconds)
