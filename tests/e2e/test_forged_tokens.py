"""Forged, expired and foreign tokens get 401 / UNAUTHENTICATED from both services, over REST and gRPC."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from collections.abc import Callable

import grpc
import httpx
import jwt
import pytest
from cigar.auth.v1 import auth_pb2, auth_pb2_grpc
from cigar.collection.v1 import collection_pb2, collection_pb2_grpc
from cryptography.hazmat.primitives import serialization

from auth_service.adapters.keys import SigningKey, load_signing_key
from tests.e2e.conftest import Frontend, Running


def b64(data: dict | bytes) -> str:
    raw = data if isinstance(data, bytes) else json.dumps(data).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def claims(user_id: int, **overrides: object) -> dict:
    now = int(time.time())
    return {"sub": str(user_id), "iss": "cigar-auth", "aud": "cigar-api", "iat": now, "exp": now + 600, **overrides}


def signed(key: SigningKey, payload: dict) -> str:
    return jwt.encode(payload, key.private_key, algorithm="EdDSA", headers={"kid": key.kid})


def alg_none(key: SigningKey, user_id: int, _token: str) -> str:
    return f"{b64({'alg': 'none', 'kid': key.kid})}.{b64(claims(user_id))}."


def hs256_with_public_key(key: SigningKey, user_id: int, _token: str) -> str:
    secret = key.public_key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    signing_input = f"{b64({'alg': 'HS256', 'typ': 'JWT', 'kid': key.kid})}.{b64(claims(user_id))}"
    return f"{signing_input}.{b64(hmac.new(secret, signing_input.encode(), hashlib.sha256).digest())}"


def tampered(key: SigningKey, user_id: int, token: str) -> str:
    header, _, signature = token.split(".")
    return f"{header}.{b64(claims(user_id + 1000))}.{signature}"


FORGERIES: dict[str, Callable[[SigningKey, int, str], str]] = {
    "alg none": alg_none,
    "HS256 with the public key as secret": hs256_with_public_key,
    "tampered payload": tampered,
    "expired": lambda key, uid, _: signed(key, claims(uid, exp=int(time.time()) - 1)),
    "wrong iss": lambda key, uid, _: signed(key, claims(uid, iss="someone-else")),
    "wrong aud": lambda key, uid, _: signed(key, claims(uid, aud="another-api")),
    "garbage": lambda *_: "not-a-jwt",
    "three garbage parts": lambda *_: "a.b.c",
}


@pytest.fixture
def victim(running: Running, frontend: Frontend) -> tuple[SigningKey, int, str]:
    """The real signing key of the stack, and a real user with a real token to forge from."""
    key = load_signing_key(running.stack.config.var_dir / "keys" / "auth_ed25519.pem")
    user_id, token = frontend.token_for_new_user()
    return key, user_id, token


def rest_calls(http: httpx.Client, authorization: str) -> list[httpx.Response]:
    headers = {"Authorization": authorization}
    return [
        http.get("/users/me/", headers=headers),  # auth_service
        http.post("/cigars/", json={"name": "n", "brand": "b", "rating": 3}, headers=headers),  # collection_service
    ]


async def grpc_codes(running: Running, authorization: str) -> list[grpc.StatusCode]:
    metadata = (("authorization", authorization),)
    codes = []
    async with (
        grpc.aio.insecure_channel(running.auth_addr) as auth_channel,
        grpc.aio.insecure_channel(running.collection_addr) as collection_channel,
    ):
        calls = [
            auth_pb2_grpc.AuthServiceStub(auth_channel).GetMe(auth_pb2.GetMeRequest(), metadata=metadata),
            collection_pb2_grpc.CollectionServiceStub(collection_channel).ListMyCigars(
                collection_pb2.ListMyCigarsRequest(), metadata=metadata
            ),
        ]
        for call in calls:
            try:
                await call
                codes.append(grpc.StatusCode.OK)
            except grpc.aio.AioRpcError as exc:
                codes.append(exc.code())
    return codes


@pytest.mark.parametrize("forgery", FORGERIES)
async def test_a_forged_or_foreign_token_is_refused_by_both_services_over_rest_and_grpc(
    running: Running, http: httpx.Client, victim: tuple[SigningKey, int, str], forgery: str
) -> None:
    key, user_id, token = victim
    authorization = f"Bearer {FORGERIES[forgery](key, user_id, token)}"
    responses = rest_calls(http, authorization)
    assert [r.status_code for r in responses] == [401, 401], [r.text for r in responses]
    assert all(r.headers["www-authenticate"].startswith("Bearer") for r in responses)
    assert await grpc_codes(running, authorization) == [grpc.StatusCode.UNAUTHENTICATED] * 2


@pytest.mark.parametrize(
    "header",
    [
        "",
        "Bearer",
        "Basic dXNlcjpwYXNz",
        "Bearer e30.e30.e30",
        pytest.param(f"Bearer {uuid.uuid4()}", id="Bearer-uuid"),
    ],
)
async def test_garbage_in_the_authorization_header_is_refused_by_both_services(
    running: Running, http: httpx.Client, header: str
) -> None:
    assert [r.status_code for r in rest_calls(http, header)] == [401, 401]
    assert await grpc_codes(running, header) == [grpc.StatusCode.UNAUTHENTICATED] * 2


async def test_the_genuine_token_still_passes_both_services(
    running: Running, http: httpx.Client, victim: tuple[SigningKey, int, str]
) -> None:
    _, _, token = victim
    assert [r.status_code for r in rest_calls(http, f"Bearer {token}")] == [200, 201]
    assert await grpc_codes(running, f"Bearer {token}") == [grpc.StatusCode.OK] * 2


def delete_me(http: httpx.Client, token: str) -> int:
    body = {"current_password": "testpassword"}
    return http.request("DELETE", "/users/me/", json=body, headers={"Authorization": f"Bearer {token}"}).status_code


async def test_the_token_of_a_deleted_user_is_refused_by_both_services_over_rest_and_grpc(
    running: Running, http: httpx.Client, frontend: Frontend
) -> None:
    _, token = frontend.token_for_new_user()
    assert delete_me(http, token) == 204
    assert [r.status_code for r in rest_calls(http, f"Bearer {token}")] == [401, 401]
    assert await grpc_codes(running, f"Bearer {token}") == [grpc.StatusCode.UNAUTHENTICATED] * 2
