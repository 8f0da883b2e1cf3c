"""auth_service's tokens and signing keys with an injected clock: what it issues, the kit's verifier accepts."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import jwt
import pytest
from cryptography.hazmat.primitives import serialization

from auth_service.adapters.keys import KeyFileError, create_key_file, load_signing_key, public_jwk
from auth_service.adapters.tokens import JwtIssuer
from service_kit.tokens import JwtVerifier, StaticKeySet, TokenRejected

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def key(tmp_path: Path):
    return create_key_file(tmp_path / "k.pem")


def make(key, clock: Clock, iss: str = "cigar-auth", aud: str = "cigar-api"):
    issuer = JwtIssuer(key, iss, aud, timedelta(minutes=30), clock)
    verifier = JwtVerifier(StaticKeySet({key.kid: key.public_key}), "cigar-auth", "cigar-api", clock)
    return issuer, verifier


def b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


async def test_a_fresh_token_verifies_to_its_user_id(key) -> None:
    issuer, verifier = make(key, Clock(NOW))
    assert await verifier.user_id(issuer.issue(42, 0).access_token) == 42


async def test_a_token_expires_after_its_lifetime(key) -> None:
    clock = Clock(NOW)
    issuer, verifier = make(key, clock)
    token = issuer.issue(1, 0).access_token
    assert issuer.issue(1, 0).expires_in == 1800
    clock.now = NOW + timedelta(minutes=29, seconds=59)
    assert await verifier.user_id(token) == 1
    clock.now = NOW + timedelta(minutes=30)
    with pytest.raises(TokenRejected, match="expired"):
        await verifier.user_id(token)


async def test_a_token_for_another_audience_is_refused_by_the_access_token_verifier(key) -> None:
    issuer, verifier = make(key, Clock(NOW))
    deletion = issuer.issue_for(1, "cigar-account-deletion", timedelta(minutes=1)).access_token
    with pytest.raises(TokenRejected):
        await verifier.user_id(deletion)


def test_kid_is_the_rfc7638_thumbprint(key) -> None:
    jwk = public_jwk(key.public_key)
    # PyJWT computes the same thumbprint independently
    assert jwk["kid"] == key.kid
    assert jwt.PyJWK({k: jwk[k] for k in ("kty", "crv", "x")}).key is not None


def test_key_files_are_created_owner_only_and_never_overwritten(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "k.pem"
    created = create_key_file(path)
    assert path.stat().st_mode & 0o777 == 0o600
    assert load_signing_key(path).kid == created.kid
    with pytest.raises(FileExistsError):
        create_key_file(path)


@pytest.mark.parametrize("content", [None, b"", b"not a pem", "rsa"])
def test_a_missing_or_wrong_key_file_is_a_clear_error(tmp_path: Path, content) -> None:
    path = tmp_path / "k.pem"
    if content == "rsa":
        from cryptography.hazmat.primitives.asymmetric import rsa

        pem = rsa.generate_private_key(65537, 2048).private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        path.write_bytes(pem)
    elif content is not None:
        path.write_bytes(content)
    with pytest.raises(KeyFileError, match=str(path)):
        load_signing_key(path)
