"""auth_service's public keys, fetched over gRPC and cached; refetched on an unknown kid, rate-limited."""

from __future__ import annotations

import asyncio
import base64
import logging
import time
from collections.abc import Callable

import grpc
from cigar.auth.v1 import auth_pb2, auth_pb2_grpc
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

log = logging.getLogger(__name__)


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
    Keys once seen are kept: a restart of auth_service does not empty this cache."""

    def __init__(
        self,
        channel: grpc.aio.Channel,
        timeout_seconds: float,
        min_interval: float,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._stub = auth_pb2_grpc.AuthServiceStub(channel)
        self._timeout = timeout_seconds
        self._min_interval = min_interval
        self._monotonic = monotonic
        self._keys: dict[str, Ed25519PublicKey] = {}
        self._lock = asyncio.Lock()
        self._last_fetch: float | None = None
        self.fetches = 0

    async def get(self, kid: str) -> Ed25519PublicKey | None:
        key = self._keys.get(kid)
        if key is not None:
            return key
        async with self._lock:  # single flight: concurrent misses wait for one fetch
            if kid not in self._keys and self._may_fetch():
                await self.refresh()
        return self._keys.get(kid)

    def _may_fetch(self) -> bool:
        return self._last_fetch is None or self._monotonic() - self._last_fetch >= self._min_interval

    async def refresh(self) -> bool:
        """Fetch the key set once; False (and a log line) if auth_service cannot be reached."""
        self._last_fetch = self._monotonic()
        self.fetches += 1
        try:
            response = await self._stub.GetJwks(auth_pb2.GetJwksRequest(), timeout=self._timeout)
        except grpc.aio.AioRpcError as exc:
            log.warning("cannot fetch JWKS from auth_service: %s", exc.code().name)
            return False
        for jwk in response.keys:
            key = _public_key(jwk)
            if key is not None and jwk.kid:
                self._keys[jwk.kid] = key
        log.info("JWKS refreshed: %d key(s) known", len(self._keys))
        return True
