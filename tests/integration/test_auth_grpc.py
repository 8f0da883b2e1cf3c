"""auth_service through a real gRPC channel, on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid

import grpc
import jwt
import pytest
from cigar.auth.v1 import auth_pb2
from google.rpc import error_details_pb2
from grpc_status import rpc_status

from tests.integration.conftest import Services, bearer


def unique(prefix: str = "user") -> str:
    return f"{prefix}_{uuid.uuid4().hex[:8]}"


def details(exc: grpc.aio.AioRpcError) -> dict[str, object]:
    """The google.rpc details of an error, by type name."""
    status = rpc_status.from_call(exc)
    found: dict[str, object] = {}
    for any_ in status.details if status else []:
        for cls in (error_details_pb2.ErrorInfo, error_details_pb2.BadRequest):
            if any_.Is(cls.DESCRIPTOR):
                msg = cls()
                any_.Unpack(msg)
                found[cls.DESCRIPTOR.name] = msg
    return found


async def test_registration_returns_the_user_with_an_empty_cigar_list(services: Services) -> None:
    name = unique()
    user = await services.register(name)
    assert user.id > 0
    assert (user.username, user.email, list(user.cigars)) == (name, f"{name}@example.com", [])


async def test_a_taken_username_is_already_exists_also_in_another_case(services: Services) -> None:
    name = unique("Case")
    await services.register(name)
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await services.auth.CreateUser(
            auth_pb2.CreateUserRequest(username=name.lower(), email=f"other_{name}@example.com", password="x" * 12)
        )
    assert err.value.code() == grpc.StatusCode.ALREADY_EXISTS
    assert "username" in err.value.details()


async def test_a_taken_email_is_already_exists(services: Services) -> None:
    name = unique()
    await services.register(name)
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await services.auth.CreateUser(
            auth_pb2.CreateUserRequest(username=unique(), email=f"{name}@example.com", password="x" * 12)
        )
    assert err.value.code() == grpc.StatusCode.ALREADY_EXISTS
    assert "email" in err.value.details()


async def test_an_email_taken_in_another_case_is_already_exists(services: Services) -> None:
    # Mail providers treat the local part case-insensitively: Bob@x and bob@x are one mailbox, so one account.
    name = unique("Mail")
    await services.register(name)
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await services.auth.CreateUser(
            auth_pb2.CreateUserRequest(username=unique(), email=f"{name.upper()}@Example.COM", password="x" * 12)
        )
    assert err.value.code() == grpc.StatusCode.ALREADY_EXISTS
    assert "email" in err.value.details()


async def test_invalid_registration_names_every_bad_field(services: Services) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await services.auth.CreateUser(auth_pb2.CreateUserRequest(username="x", email="nope", password="short"))
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    bad = details(err.value)["BadRequest"]
    assert {v.field for v in bad.field_violations} == {"username", "email", "password"}


async def test_token_is_an_eddsa_jwt_with_kid_and_the_documented_claims(services: Services) -> None:
    name = unique()
    user = await services.register(name)
    reply = await services.auth.Token(auth_pb2.TokenRequest(username=name, password="correct horse battery"))
    assert reply.token_type == "bearer"
    assert reply.expires_in == 10 * 60  # short: the refresh token keeps the session
    header = jwt.get_unverified_header(reply.access_token)
    jwks = await services.auth.GetJwks(auth_pb2.GetJwksRequest())
    assert header["alg"] == "EdDSA"
    assert header["kid"] in {k.kid for k in jwks.keys}
    claims = jwt.decode(reply.access_token, options={"verify_signature": False})
    assert claims["sub"] == str(user.id)
    assert (claims["iss"], claims["aud"]) == ("cigar-auth", "cigar-api")
    assert claims["exp"] - claims["iat"] == 10 * 60
    assert isinstance(claims["sid"], str) and len(claims["sid"]) == 32  # the session, which logging out ends


@pytest.mark.parametrize("who", ["wrong password", "unknown user"])
async def test_login_fails_the_same_way_for_unknown_user_and_wrong_password(services: Services, who: str) -> None:
    name = unique()
    await services.register(name)
    username = name if who == "wrong password" else unique("ghost")
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await services.auth.Token(auth_pb2.TokenRequest(username=username, password="not the password"))
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert err.value.details() == "incorrect username or password"
    assert details(err.value)["ErrorInfo"].reason == "invalid_grant"


async def test_an_unsupported_grant_type_is_refused(services: Services) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await services.auth.Token(auth_pb2.TokenRequest(grant_type="client_credentials", username="a", password="b"))
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert details(err.value)["ErrorInfo"].reason == "unsupported_grant_type"


async def test_get_me_returns_the_caller_with_their_cigars_from_collection_service(services: Services) -> None:
    name = unique()
    user = await services.register(name)
    token = await services.login(name)
    first = await services.create_cigar(token, name="Hemingway")
    second = await services.create_cigar(token, name="Short Story")
    me = await services.auth.GetMe(auth_pb2.GetMeRequest(), metadata=bearer(token))
    assert me.id == user.id
    assert [c.id for c in me.cigars] == [first.id, second.id]
    assert {c.owner_id for c in me.cigars} == {user.id}


@pytest.mark.parametrize("metadata", [(), (("authorization", "Bearer garbage"),), (("authorization", "Basic abc"),)])
async def test_get_me_without_a_valid_bearer_token_is_unauthenticated(services: Services, metadata: tuple) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await services.auth.GetMe(auth_pb2.GetMeRequest(), metadata=metadata)
    assert err.value.code() == grpc.StatusCode.UNAUTHENTICATED


async def test_jwks_publishes_the_ed25519_public_key(services: Services) -> None:
    jwks = await services.auth.GetJwks(auth_pb2.GetJwksRequest())
    assert len(jwks.keys) == 1
    key = jwks.keys[0]
    assert (key.kty, key.crv, key.alg, key.use) == ("OKP", "Ed25519", "EdDSA", "sig")
    assert key.x and key.kid
