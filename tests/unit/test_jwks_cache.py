"""collection_service's JWKS cache (single flight, rate-limited refetch, keys survive outages) and the
token verifier that remembers verified tokens only while their key is in the set."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import jwt
import pytest
from cigar.auth.v1 import auth_pb2

from auth_service.adapters.keys import create_key_file
from auth_service.adapters.tokens import JwtIssuer
from collection_service.adapters.jwks import JwksCache, JwksUnavailable
from collection_service.domain import KeysUnavailable
from service_kit.tokens import JwtVerifier, TokenRejected
from tests.conftest import eventually


class FakeAuth:
    def __init__(self, jwks: list[auth_pb2.Jwk]) -> None:
        self.jwks = jwks
        self.calls = 0
        self.down = False

    async def __call__(self) -> list[auth_pb2.Jwk]:
        self.calls += 1
        await asyncio.sleep(0.01)
        if self.down:
            raise JwksUnavailable("UNAVAILABLE")
        return self.jwks


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def jwk_of(tmp_path: Path, name: str) -> auth_pb2.Jwk:
    return auth_pb2.Jwk(**create_key_file(tmp_path / name).jwk())


async def test_a_known_kid_is_served_from_the_cache(tmp_path: Path) -> None:
    jwk = jwk_of(tmp_path, "a.pem")
    auth = FakeAuth([jwk])
    cache = JwksCache(auth, min_interval=5, monotonic=Clock())
    assert await cache.get(jwk.kid) is not None
    assert await cache.get(jwk.kid) is not None
    assert auth.calls == 1


async def test_a_burst_of_unknown_kids_makes_a_single_fetch(tmp_path: Path) -> None:
    auth = FakeAuth([jwk_of(tmp_path, "a.pem")])
    cache = JwksCache(auth, min_interval=5, monotonic=Clock())
    results = await asyncio.gather(*(cache.get(f"made-up-{i}") for i in range(200)))
    assert results == [None] * 200
    assert auth.calls == 1


async def test_an_unknown_kid_is_refetched_once_the_interval_has_passed(tmp_path: Path) -> None:
    clock = Clock()
    old, new = jwk_of(tmp_path, "old.pem"), jwk_of(tmp_path, "new.pem")
    auth = FakeAuth([old])
    cache = JwksCache(auth, min_interval=5, monotonic=clock)
    await cache.get(old.kid)
    auth.jwks = [old, new]  # auth_service rotated its key
    assert await cache.get(new.kid) is None  # too soon after the last fetch
    clock.now += 5
    assert await cache.get(new.kid) is not None
    assert auth.calls == 2


async def test_keys_stay_known_while_auth_service_is_down(tmp_path: Path) -> None:
    clock = Clock()
    jwk = jwk_of(tmp_path, "a.pem")
    auth = FakeAuth([jwk])
    cache = JwksCache(auth, min_interval=0, monotonic=clock)
    await cache.refresh()
    auth.down = True
    assert not await cache.refresh()
    assert await cache.get(jwk.kid) is not None


async def has_key(cache: JwksCache, kid: str) -> bool:
    return await cache.get(kid) is not None


async def test_keep_fresh_retries_until_auth_service_answers_then_follows_its_key_set(tmp_path: Path) -> None:
    old, new = jwk_of(tmp_path, "old.pem"), jwk_of(tmp_path, "new.pem")
    auth = FakeAuth([old])
    auth.down = True
    cache = JwksCache(auth, min_interval=0)
    task = asyncio.create_task(cache.keep_fresh(every_seconds=0.05, retry_seconds=0.01, max_retry_seconds=0.02))
    try:
        await asyncio.sleep(0.1)
        auth.down = False
        await eventually(lambda: has_key(cache, old.kid), within=1)
        auth.jwks = [new]  # a rotation published the next key and dropped the old one
        await eventually(lambda: has_key(cache, new.kid), within=1)
        assert await cache.get(old.kid) is None  # no longer published: no longer trusted
    finally:
        task.cancel()


async def test_a_key_no_longer_published_is_dropped_but_an_outage_keeps_the_set(tmp_path: Path) -> None:
    a, b = jwk_of(tmp_path, "a.pem"), jwk_of(tmp_path, "b.pem")
    auth = FakeAuth([a, b])
    cache = JwksCache(auth, min_interval=0, monotonic=Clock())
    assert await cache.refresh()
    auth.jwks = [b]
    assert await cache.refresh()
    assert await cache.get(a.kid) is None
    auth.down = True
    assert not await cache.refresh()
    assert await cache.get(b.kid) is not None


async def test_a_failed_fetch_may_be_retried_sooner_than_a_successful_one(tmp_path: Path) -> None:
    clock = Clock()
    jwk = jwk_of(tmp_path, "a.pem")
    auth = FakeAuth([jwk])
    auth.down = True
    cache = JwksCache(auth, min_interval=5, monotonic=clock, retry_after_failure=1)
    with pytest.raises(KeysUnavailable):
        await cache.get(jwk.kid)
    auth.down = False
    clock.now += 0.5
    with pytest.raises(KeysUnavailable):  # still inside the retry delay: no new fetch
        await cache.get(jwk.kid)
    clock.now += 0.5
    assert await cache.get(jwk.kid) is not None
    assert auth.calls == 2


async def test_an_unknown_kid_is_unavailable_not_invalid_while_auth_service_is_down(tmp_path: Path) -> None:
    auth = FakeAuth([jwk_of(tmp_path, "a.pem")])
    cache = JwksCache(auth, min_interval=0, monotonic=Clock())
    assert await cache.get("made-up") is None  # auth_service answered: the kid is really unknown
    auth.down = True
    with pytest.raises(KeysUnavailable):  # it may be a new key we cannot learn yet: retry later
        await cache.get("made-up")


async def test_the_start_up_fetch_and_a_burst_of_misses_share_one_fetch(tmp_path: Path) -> None:
    jwk = jwk_of(tmp_path, "a.pem")
    auth = FakeAuth([jwk])
    cache = JwksCache(auth, min_interval=5, monotonic=Clock())
    warm = asyncio.create_task(cache.keep_fresh(every_seconds=60))
    await asyncio.sleep(0)  # the start-up fetch is in flight
    keys = await asyncio.gather(*(cache.get(jwk.kid) for _ in range(50)))
    warm.cancel()
    assert all(k is not None for k in keys)
    assert auth.calls == 1


async def test_the_verifier_checks_a_signature_once_until_the_key_set_changes(tmp_path: Path, monkeypatch) -> None:
    now = [datetime(2026, 11, 26, 12, 0, tzinfo=UTC)]
    a_key, b_key = create_key_file(tmp_path / "a.pem"), create_key_file(tmp_path / "b.pem")
    a, b = auth_pb2.Jwk(**a_key.jwk()), auth_pb2.Jwk(**b_key.jwk())
    auth = FakeAuth([a, b])
    cache = JwksCache(auth, min_interval=0, monotonic=Clock())
    verifier = JwtVerifier(cache, "cigar-auth", "cigar-api", lambda: now[0])
    token = JwtIssuer(a_key, "cigar-auth", "cigar-api", timedelta(minutes=30), lambda: now[0]).issue(9, 0).access_token
    decodes = []
    real_decode = jwt.decode
    monkeypatch.setattr(jwt, "decode", lambda *args, **kw: decodes.append(1) or real_decode(*args, **kw))
    assert [await verifier.user_id(token) for _ in range(3)] == [9, 9, 9]
    assert len(decodes) == 1
    assert await cache.refresh()  # same keys, new objects: verified once more, then remembered again
    assert [await verifier.user_id(token) for _ in range(2)] == [9, 9]
    assert len(decodes) == 2
    auth.jwks = [b]  # auth_service stops publishing the key that signed the token
    assert await cache.refresh()
    with pytest.raises(TokenRejected, match="unknown key"):
        await verifier.user_id(token)
    auth.jwks = [a, b]
    assert await cache.refresh()
    assert await verifier.user_id(token) == 9
    now[0] += timedelta(minutes=30)
    with pytest.raises(TokenRejected, match="expired"):
        await verifier.user_id(token)
