"""Token issuing and verification (auth_service) with an injected clock: no sleeping, no sockets."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import jwt
import pytest
from cryptography.hazmat.primitives import serialization

from auth_service.domain import InvalidToken
from auth_service.keys import KeyFileError, create_key_file, load_signing_key, public_jwk
from auth_service.tokens import TokenIssuer, TokenVerifier, bearer_token

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
    issuer = TokenIssuer(key, iss, aud, timedelta(minutes=30), clock)
    verifier = TokenVerifier({key.kid: key.public_key}, "cigar-auth", "cigar-api", clock)
    return issuer, verifier


def b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def test_a_fresh_token_verifies_to_its_user_id(key) -> None:
    issuer, verifier = make(key, Clock(NOW))
    assert verifier.verify(issuer.issue(42).access_token) == 42


def test_a_token_expires_after_its_lifetime(key) -> None:
    clock = Clock(NOW)
    issuer, verifier = make(key, clock)
    token = issuer.issue(1).access_token
    clock.now = NOW + timedelta(minutes=29, seconds=59)
    assert verifier.verify(token) == 1
    clock.now = NOW + timedelta(minutes=30)
    with pytest.raises(InvalidToken, match="expired"):
        verifier.verify(token)


@pytest.mark.parametrize(("iss", "aud"), [("someone-else", "cigar-api"), ("cigar-auth", "another-api")])
def test_a_wrong_issuer_or_audience_is_refused(key, iss: str, aud: str) -> None:
    issuer, verifier = make(key, Clock(NOW), iss=iss, aud=aud)
    with pytest.raises(InvalidToken):
        verifier.verify(issuer.issue(1).access_token)


def test_alg_none_is_refused(key) -> None:
    _, verifier = make(key, Clock(NOW))
    claims = {"sub": "1", "iss": "cigar-auth", "aud": "cigar-api", "iat": 0, "exp": 4102444800}
    token = f"{b64({'alg': 'none', 'kid': key.kid})}.{b64(claims)}."
    with pytest.raises(InvalidToken):
        verifier.verify(token)


def test_hs256_signed_with_the_public_key_as_secret_is_refused(key) -> None:
    _, verifier = make(key, Clock(NOW))
    public_pem = key.public_key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    claims = {"sub": "1", "iss": "cigar-auth", "aud": "cigar-api", "iat": 0, "exp": 4102444800}
    header = b64({"alg": "HS256", "typ": "JWT", "kid": key.kid})
    import hashlib
    import hmac

    signing_input = f"{header}.{b64(claims)}".encode()
    sig = base64.urlsafe_b64encode(hmac.new(public_pem, signing_input, hashlib.sha256).digest()).rstrip(b"=")
    with pytest.raises(InvalidToken):
        verifier.verify(f"{signing_input.decode()}.{sig.decode()}")


def test_a_tampered_payload_is_refused(key) -> None:
    issuer, verifier = make(key, Clock(NOW))
    header, _, signature = issuer.issue(1).access_token.split(".")
    claims = {"sub": "2", "iss": "cigar-auth", "aud": "cigar-api", "iat": 0, "exp": 4102444800}
    with pytest.raises(InvalidToken):
        verifier.verify(f"{header}.{b64(claims)}.{signature}")


def test_a_token_without_a_known_kid_is_refused(key, tmp_path: Path) -> None:
    other = create_key_file(tmp_path / "other.pem")
    issuer, _ = make(other, Clock(NOW))
    _, verifier = make(key, Clock(NOW))
    with pytest.raises(InvalidToken, match="unknown key"):
        verifier.verify(issuer.issue(1).access_token)


@pytest.mark.parametrize("value", [None, "", "Bearer", "Bearer   ", "Basic abc", "token-without-scheme"])
def test_bearer_token_refuses_anything_but_a_bearer_header(value: str | None) -> None:
    with pytest.raises(InvalidToken):
        bearer_token(value)


def test_bearer_scheme_is_case_insensitive() -> None:
    assert bearer_token("bearer abc.def.ghi") == "abc.def.ghi"


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


def test_a_verified_token_is_remembered_but_still_expires_and_dies_with_its_key(key, monkeypatch) -> None:
    clock = Clock(NOW)
    keys = {key.kid: key.public_key}
    issuer = TokenIssuer(key, "cigar-auth", "cigar-api", timedelta(minutes=30), clock)
    verifier = TokenVerifier(keys, "cigar-auth", "cigar-api", clock)
    token = issuer.issue(7).access_token
    decodes = []
    real_decode = jwt.decode
    monkeypatch.setattr(jwt, "decode", lambda *a, **kw: decodes.append(1) or real_decode(*a, **kw))
    assert [verifier.verify(token) for _ in range(3)] == [7, 7, 7]
    assert len(decodes) == 1  # the signature was checked once
    del keys[key.kid]  # the key is no longer published
    with pytest.raises(InvalidToken, match="unknown key"):
        verifier.verify(token)
    keys[key.kid] = key.public_key
    assert verifier.verify(token) == 7
    clock.now = NOW + timedelta(minutes=30)
    with pytest.raises(InvalidToken, match="expired"):
        verifier.verify(token)


def test_forged_tokens_are_never_remembered_and_the_memo_is_bounded(key) -> None:
    issuer, _ = make(key, Clock(NOW))
    verifier = TokenVerifier({key.kid: key.public_key}, "cigar-auth", "cigar-api", Clock(NOW), memo_size=2)
    good = issuer.issue(1).access_token
    forged = good[:-4] + ("AAAA" if not good.endswith("AAAA") else "BBBB")
    for _ in range(2):
        with pytest.raises(InvalidToken):
            verifier.verify(forged)
    assert [verifier.verify(issuer.issue(n).access_token) for n in (1, 2, 3)] == [1, 2, 3]
    assert len(verifier._memo) == 2 and forged not in verifier._memo


def test_a_kid_that_is_not_a_string_is_an_invalid_token_not_a_crash(key) -> None:
    _, verifier = make(key, Clock(NOW))
    token = f"{b64({'alg': 'EdDSA', 'kid': ['x']})}.{b64({'sub': '1'})}.c2ln"
    with pytest.raises(InvalidToken):
        verifier.verify(token)
