"""Key rotation on disk with an injected clock: old tokens verify until they expire, new ones use the new key."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import jwt
import pytest

from auth_service.adapters.keyring import load_key_ring, next_key_file, prepare_next_key, rotate
from auth_service.adapters.keys import create_key_file
from auth_service.adapters.tokens import JwtIssuer
from service_kit.tokens import JwtVerifier, StaticKeySet, TokenRejected

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
LIFETIME = timedelta(minutes=30)
KEEP = 2 * LIFETIME


def issue(path: Path, at: datetime, user_id: int = 1) -> str:
    ring = load_key_ring(path, at, KEEP)
    return JwtIssuer(ring.current, "i", "a", LIFETIME, lambda: at).issue(user_id, 0).access_token


def verify(path: Path, token: str, at: datetime) -> int:
    keys = StaticKeySet(load_key_ring(path, at, KEEP).published)
    return asyncio.run(JwtVerifier(keys, "i", "a", lambda: at).user_id(token))


def kid(token: str) -> str:
    return jwt.get_unverified_header(token)["kid"]


def test_a_rotation_keeps_old_tokens_valid_until_they_expire_and_signs_new_ones_with_the_new_key(
    tmp_path: Path,
) -> None:
    path = tmp_path / "auth.pem"
    old_key = create_key_file(path)
    old_token = issue(path, NOW)
    new_key = rotate(path, NOW + timedelta(minutes=1), KEEP)
    assert new_key.kid != old_key.kid
    later = NOW + timedelta(minutes=2)
    new_token = issue(path, later)
    assert (kid(old_token), kid(new_token)) == (old_key.kid, new_key.kid)
    assert {j["kid"] for j in load_key_ring(path, later, KEEP).jwks()} == {old_key.kid, new_key.kid}
    assert verify(path, old_token, later) == 1
    assert verify(path, new_token, later) == 1
    with pytest.raises(TokenRejected, match="expired"):
        verify(path, old_token, NOW + LIFETIME)


def test_a_retired_key_is_dropped_after_the_retention_and_removed_at_the_next_rotation(tmp_path: Path) -> None:
    path = tmp_path / "auth.pem"
    old_key = create_key_file(path)
    rotate(path, NOW, KEEP)
    assert old_key.kid in load_key_ring(path, NOW + KEEP - timedelta(seconds=1), KEEP).published
    assert old_key.kid not in load_key_ring(path, NOW + KEEP, KEEP).published
    rotate(path, NOW + KEEP, KEEP)
    assert len(list(tmp_path.glob("auth.retired-*.pub.pem"))) == 1  # only the one retired just now


def test_a_prepared_next_key_is_published_before_it_signs_and_then_becomes_current(tmp_path: Path) -> None:
    path = tmp_path / "auth.pem"
    current = create_key_file(path)
    upcoming = prepare_next_key(path)
    ring = load_key_ring(path, NOW, KEEP)
    assert ring.current.kid == current.kid
    assert set(ring.published) == {current.kid, upcoming.kid}
    assert rotate(path, NOW, KEEP).kid == upcoming.kid
    assert not next_key_file(path).exists()
    assert path.stat().st_mode & 0o777 == 0o600
    assert load_key_ring(path, NOW, KEEP).current.kid == upcoming.kid
