"""Bearer tokens and JWT verification (service_kit.tokens) with an injected clock: no sleeping, no sockets."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from service_kit.tokens import JwtVerifier, StaticKeySet, TokenRejected, VerifiedToken, bearer_token

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
ISS, AUD = "the-issuer", "the-api"


class Clock:
    def __init__(self, now: datetime = NOW) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


class Signer:
    """An Ed25519 key and what a token service would put in its tokens."""

    def __init__(self, kid: str = "k1") -> None:
        self.private = Ed25519PrivateKey.generate()
        self.public: Ed25519PublicKey = self.private.public_key()
        self.kid = kid

    def token(self, sub: object = "42", iss: str = ISS, aud: str = AUD, **extra: object) -> str:
        exp = int((NOW + timedelta(minutes=30)).timestamp())
        claims = {"sub": sub, "iss": iss, "aud": aud, "iat": int(NOW.timestamp()), "exp": exp, **extra}
        return jwt.encode(claims, self.private, algorithm="EdDSA", headers={"kid": self.kid})


def b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


@pytest.fixture
def signer() -> Signer:
    return Signer()


def verifier_for(*signers: Signer, clock: Clock | None = None, memo_size: int = 4096) -> JwtVerifier:
    keys = StaticKeySet({s.kid: s.public for s in signers})
    return JwtVerifier(keys, ISS, AUD, clock or Clock(), memo_size=memo_size)


async def test_a_fresh_token_verifies_to_its_user_id(signer: Signer) -> None:
    assert await verifier_for(signer).user_id(signer.token()) == 42


async def test_a_token_expires_after_its_lifetime(signer: Signer) -> None:
    clock = Clock()
    verifier, token = verifier_for(signer, clock=clock), signer.token()
    clock.now = NOW + timedelta(minutes=29, seconds=59)
    assert await verifier.user_id(token) == 42
    clock.now = NOW + timedelta(minutes=30)
    with pytest.raises(TokenRejected, match="expired"):
        await verifier.user_id(token)


@pytest.mark.parametrize(("iss", "aud"), [("someone-else", AUD), (ISS, "another-api")])
async def test_a_wrong_issuer_or_audience_is_refused(signer: Signer, iss: str, aud: str) -> None:
    with pytest.raises(TokenRejected):
        await verifier_for(signer).user_id(signer.token(iss=iss, aud=aud))


@pytest.mark.parametrize("sub", ["not-a-number", None])
async def test_a_subject_that_is_not_a_user_id_is_refused(signer: Signer, sub: object) -> None:
    with pytest.raises(TokenRejected):
        await verifier_for(signer).user_id(signer.token(sub=sub))


async def test_alg_none_is_refused(signer: Signer) -> None:
    claims = {"sub": "1", "iss": ISS, "aud": AUD, "iat": 0, "exp": 4102444800}
    with pytest.raises(TokenRejected):
        await verifier_for(signer).user_id(f"{b64({'alg': 'none', 'kid': signer.kid})}.{b64(claims)}.")


async def test_hs256_signed_with_the_public_key_as_secret_is_refused(signer: Signer) -> None:
    public_pem = signer.public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    claims = {"sub": "1", "iss": ISS, "aud": AUD, "iat": 0, "exp": 4102444800}
    signing_input = f"{b64({'alg': 'HS256', 'typ': 'JWT', 'kid': signer.kid})}.{b64(claims)}".encode()
    sig = base64.urlsafe_b64encode(hmac.new(public_pem, signing_input, hashlib.sha256).digest()).rstrip(b"=")
    with pytest.raises(TokenRejected):
        await verifier_for(signer).user_id(f"{signing_input.decode()}.{sig.decode()}")


async def test_a_tampered_payload_is_refused(signer: Signer) -> None:
    header, _, signature = signer.token().split(".")
    claims = {"sub": "2", "iss": ISS, "aud": AUD, "iat": 0, "exp": 4102444800}
    with pytest.raises(TokenRejected):
        await verifier_for(signer).user_id(f"{header}.{b64(claims)}.{signature}")


async def test_a_token_signed_by_a_key_not_in_the_set_is_refused(signer: Signer) -> None:
    stranger = Signer("k2")
    with pytest.raises(TokenRejected, match="unknown key"):
        await verifier_for(signer).user_id(stranger.token())


@pytest.mark.parametrize("header", [{"alg": "EdDSA", "kid": ["x"]}, {"alg": "EdDSA"}, {"alg": "EdDSA", "kid": ""}])
async def test_a_kid_that_is_missing_or_not_a_string_is_refused_not_a_crash(signer: Signer, header: dict) -> None:
    with pytest.raises(TokenRejected):
        await verifier_for(signer).user_id(f"{b64(header)}.{b64({'sub': '1'})}.c2ln")


async def test_garbage_is_refused(signer: Signer) -> None:
    with pytest.raises(TokenRejected):
        await verifier_for(signer).user_id("not.a.jwt")


@pytest.mark.parametrize("value", [None, "", "Bearer", "Bearer   ", "Basic abc", "token-without-scheme"])
def test_bearer_token_refuses_anything_but_a_bearer_header(value: str | None) -> None:
    with pytest.raises(TokenRejected, match="not authenticated"):
        bearer_token(value)


def test_bearer_scheme_is_case_insensitive_and_the_token_is_trimmed() -> None:
    assert bearer_token("bearer  abc.def.ghi ") == "abc.def.ghi"


async def test_a_verified_token_is_remembered_but_still_expires_and_dies_with_its_key(
    signer: Signer, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = Clock()
    keys = {signer.kid: signer.public}
    verifier = JwtVerifier(StaticKeySet(keys), ISS, AUD, clock)
    token = signer.token(sub="7")
    decodes = []
    real_decode = jwt.decode
    monkeypatch.setattr(jwt, "decode", lambda *a, **kw: decodes.append(1) or real_decode(*a, **kw))
    assert [await verifier.user_id(token) for _ in range(3)] == [7, 7, 7]
    assert len(decodes) == 1  # the signature was checked once
    del keys[signer.kid]  # the key is no longer published
    with pytest.raises(TokenRejected, match="unknown key"):
        await verifier.user_id(token)
    keys[signer.kid] = signer.public
    assert await verifier.user_id(token) == 7
    clock.now = NOW + timedelta(minutes=30)
    with pytest.raises(TokenRejected, match="expired"):
        await verifier.user_id(token)


async def test_forged_tokens_are_never_remembered_and_the_memo_is_bounded(signer: Signer) -> None:
    verifier = verifier_for(signer, memo_size=2)
    good = signer.token(sub="1")
    forged = good[:-4] + ("AAAA" if not good.endswith("AAAA") else "BBBB")
    for _ in range(2):
        with pytest.raises(TokenRejected):
            await verifier.user_id(forged)
    tokens = [signer.token(sub=str(n)) for n in (1, 2, 3)]
    assert [await verifier.user_id(t) for t in tokens] == [1, 2, 3]
    assert len(verifier._memo) == 2 and forged not in verifier._memo and tokens[0] not in verifier._memo


async def test_the_token_version_comes_with_the_user_id_and_is_zero_when_absent(signer: Signer) -> None:
    verifier = verifier_for(signer)
    assert await verifier.verify(signer.token(ver=3)) == VerifiedToken(42, 3)
    assert await verifier.verify(signer.token(ver=3)) == VerifiedToken(42, 3)  # remembered, version included
    assert await verifier.verify(signer.token()) == VerifiedToken(42, 0)


@pytest.mark.parametrize("version", [-1, "2", 1.5, True, None])
async def test_a_version_that_is_not_a_count_is_refused(signer: Signer, version: object) -> None:
    with pytest.raises(TokenRejected):
        await verifier_for(signer).verify(signer.token(ver=version))
