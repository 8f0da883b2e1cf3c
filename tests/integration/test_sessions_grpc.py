"""Sessions through real gRPC servers on SQLite and PostgreSQL: refresh rotation and reuse, revocation, logging
out of one session or all, and what a password change does to sessions."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime

import grpc
import pytest
from cigar.auth.v1 import auth_pb2
from cigar.collection.v1 import collection_pb2
from sqlalchemy import text
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

from auth_service.adapters.db.session_pruning import SqlSessionPruner
from auth_service.app.sessions import token_hash
from tests.integration.conftest import Services, bearer, code_of
from tests.integration.test_auth_grpc import details

PASSWORD = "correct horse battery"


def unique() -> str:
    return f"sess_{uuid.uuid4().hex[:8]}"


async def login(services: Services, name: str, password: str = PASSWORD) -> auth_pb2.TokenResponse:
    return await services.auth.Token(auth_pb2.TokenRequest(grant_type="password", username=name, password=password))


async def refresh(services: Services, token: str) -> auth_pb2.TokenResponse:
    return await services.auth.Token(auth_pb2.TokenRequest(grant_type="refresh_token", refresh_token=token))


async def refused_refresh(services: Services, token: str) -> str:
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await refresh(services, token)
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    return details(err.value)["ErrorInfo"].reason  # type: ignore[attr-defined,no-any-return]


async def collection_status(services: Services, token: str) -> grpc.StatusCode:
    return await code_of(services.collection.ListMyCigars(collection_pb2.ListMyCigarsRequest(), metadata=bearer(token)))


async def test_the_password_grant_answers_a_refresh_token_stored_only_as_its_hash(services: Services) -> None:
    name = unique()
    await services.register(name)
    issued = await login(services, name)
    assert issued.token_type == "bearer" and issued.access_token and len(issued.refresh_token) >= 43
    engine = create_async_engine(services.auth_db_url)
    try:
        async with engine.connect() as conn:
            stored = (await conn.execute(text("SELECT token_hash FROM refresh_tokens"))).scalars().all()
    finally:
        await engine.dispose()
    assert issued.refresh_token not in stored and len(stored) >= 1 and all(len(h) == 64 for h in stored)


async def test_a_refresh_rotates_and_a_reused_token_ends_the_session(services: Services) -> None:
    name = unique()
    await services.register(name)
    first = await login(services, name)
    second = await refresh(services, first.refresh_token)
    assert second.refresh_token != first.refresh_token
    me = await services.auth.GetMe(auth_pb2.GetMeRequest(), metadata=bearer(second.access_token))
    assert me.username == name
    third = await refresh(services, second.refresh_token)
    assert await refused_refresh(services, second.refresh_token) == "invalid_grant"  # reuse ...
    assert await refused_refresh(services, third.refresh_token) == "invalid_grant"  # ... ends the family


async def test_concurrent_refreshes_of_one_token_let_exactly_one_through(services: Services) -> None:
    name = unique()
    await services.register(name)
    first = await login(services, name)
    outcomes = await asyncio.gather(*(refresh(services, first.refresh_token) for _ in range(4)), return_exceptions=True)
    winners = [o for o in outcomes if isinstance(o, auth_pb2.TokenResponse)]
    assert len(winners) <= 1
    assert all(isinstance(o, grpc.aio.AioRpcError) for o in outcomes if o not in winners)
    for winner in winners:  # the replays were reuse: the session is over for the winner too
        assert await refused_refresh(services, winner.refresh_token) == "invalid_grant"


async def test_a_refresh_grant_without_a_token_names_the_field(services: Services) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await services.auth.Token(auth_pb2.TokenRequest(grant_type="refresh_token"))
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    [violation] = details(err.value)["BadRequest"].field_violations  # type: ignore[attr-defined]
    assert violation.field == "refresh_token"


async def test_revoke_ends_the_session_and_accepts_unknown_tokens(services: Services) -> None:
    name = unique()
    await services.register(name)
    issued = await login(services, name)
    await services.auth.Revoke(auth_pb2.RevokeRequest(token="never-issued"))
    await services.auth.Revoke(auth_pb2.RevokeRequest(token=issued.refresh_token, token_type_hint="refresh_token"))
    assert await refused_refresh(services, issued.refresh_token) == "invalid_grant"


async def test_logout_ends_only_the_current_session(services: Services) -> None:
    name = unique()
    await services.register(name)
    phone, laptop = await login(services, name), await login(services, name)
    await services.auth.Logout(auth_pb2.LogoutRequest(), metadata=bearer(phone.access_token))
    assert await refused_refresh(services, phone.refresh_token) == "invalid_grant"
    assert (await refresh(services, laptop.refresh_token)).access_token


async def test_logout_everywhere_ends_every_session_in_both_services(services: Services) -> None:
    name = unique()
    await services.register(name)
    phone, laptop = await login(services, name), await login(services, name)
    assert await collection_status(services, phone.access_token) == grpc.StatusCode.OK
    await services.auth.LogoutAll(auth_pb2.LogoutAllRequest(), metadata=bearer(laptop.access_token))
    for session in (phone, laptop):
        assert await refused_refresh(services, session.refresh_token) == "invalid_grant"
        assert await collection_status(services, session.access_token) == grpc.StatusCode.UNAUTHENTICATED
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await services.auth.GetMe(auth_pb2.GetMeRequest(), metadata=bearer(session.access_token))
        assert err.value.code() == grpc.StatusCode.UNAUTHENTICATED
    fresh = await login(services, name)
    assert await collection_status(services, fresh.access_token) == grpc.StatusCode.OK


async def test_a_password_change_ends_every_session(services: Services) -> None:
    name = unique()
    await services.register(name)
    other = await login(services, name)
    mine = await login(services, name)
    await services.auth.ChangePassword(
        auth_pb2.ChangePasswordRequest(current_password=PASSWORD, new_password="a brand new passphrase"),
        metadata=bearer(mine.access_token),
    )
    assert await refused_refresh(services, other.refresh_token) == "invalid_grant"
    assert await refused_refresh(services, mine.refresh_token) == "invalid_grant"


async def test_account_deletion_ends_every_session(services: Services) -> None:
    name = unique()
    await services.register(name)
    issued = await login(services, name)
    await services.auth.DeleteMe(
        auth_pb2.DeleteMeRequest(current_password=PASSWORD), metadata=bearer(issued.access_token)
    )
    assert await refused_refresh(services, issued.refresh_token) == "invalid_grant"


async def test_the_metadata_document_names_the_endpoints_and_grants(services: Services) -> None:
    doc = await services.auth.GetAuthorizationServerMetadata(auth_pb2.GetAuthorizationServerMetadataRequest())
    assert doc.token_endpoint == f"{doc.issuer}/token" and doc.revocation_endpoint == f"{doc.issuer}/revoke"
    assert doc.jwks_uri == f"{doc.issuer}/.well-known/jwks.json"
    assert list(doc.grant_types_supported) == ["password", "refresh_token"]
    assert list(doc.token_endpoint_auth_methods_supported) == ["none"]


async def test_pruning_deletes_ended_sessions_and_keeps_live_ones(services: Services) -> None:
    name = unique()
    await services.register(name)
    ended, live = await login(services, name), await login(services, name)
    live = await refresh(services, live.refresh_token)  # a used token of a live session: needed for reuse detection
    await services.auth.Revoke(auth_pb2.RevokeRequest(token=ended.refresh_token))
    engine = create_async_engine(services.auth_db_url)
    try:
        pruned = await SqlSessionPruner(async_sessionmaker(engine)).prune(datetime.now(UTC))
        async with engine.connect() as conn:
            left = (await conn.execute(text("SELECT token_hash FROM refresh_tokens"))).scalars().all()
    finally:
        await engine.dispose()
    assert pruned >= 2  # the ended session's token and family
    assert token_hash(ended.refresh_token) not in left
    assert token_hash(live.refresh_token) in left
    assert await refused_refresh(services, ended.refresh_token) == "invalid_grant"
    assert (await refresh(services, live.refresh_token)).refresh_token
