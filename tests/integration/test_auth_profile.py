"""Profile management, account deletion and email verification over gRPC, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import uuid

import grpc
import pytest
from cigar.auth.v1 import auth_pb2
from cigar.collection.v1 import collection_pb2
from sqlalchemy import text

from service_kit.db.engine import create_engine
from tests.integration.conftest import Services, as_gateway, bearer, code_of

PASSWORD = "correct horse battery"


def unique(prefix: str = "prof") -> str:
    return f"{prefix}_{uuid.uuid4().hex[:8]}"


async def test_a_new_email_is_stored_normalised_and_unverified(services: Services) -> None:
    name = unique()
    await services.register(name)
    token = await services.login(name)
    user = await services.auth.UpdateMe(
        auth_pb2.UpdateMeRequest(email=f"{name}@NEW.example.com", current_password=PASSWORD), metadata=bearer(token)
    )
    assert (user.email, user.email_verified) == (f"{name}@new.example.com", False)
    me = await services.auth.GetMe(auth_pb2.GetMeRequest(), metadata=bearer(token))
    assert me.email == f"{name}@new.example.com"


async def test_another_users_email_in_any_case_is_already_exists_and_a_bad_one_is_invalid(services: Services) -> None:
    first, second = unique(), unique()
    await services.register(first)
    await services.register(second)
    token = await services.login(second)
    taken = services.auth.UpdateMe(
        auth_pb2.UpdateMeRequest(email=f"{first}@example.com", current_password=PASSWORD), metadata=bearer(token)
    )
    assert await code_of(taken) == grpc.StatusCode.ALREADY_EXISTS
    other_case = services.auth.UpdateMe(
        auth_pb2.UpdateMeRequest(email=f"{first.upper()}@example.com", current_password=PASSWORD),
        metadata=bearer(token),
    )
    assert await code_of(other_case) == grpc.StatusCode.ALREADY_EXISTS
    bad = services.auth.UpdateMe(auth_pb2.UpdateMeRequest(email="not-an-email"), metadata=bearer(token))
    assert await code_of(bad) == grpc.StatusCode.INVALID_ARGUMENT


async def test_a_password_change_needs_the_current_password_and_a_good_new_one(services: Services) -> None:
    name = unique()
    await services.register(name)
    token = await services.login(name)

    def change(current: str, new: str):
        request = auth_pb2.ChangePasswordRequest(current_password=current, new_password=new)
        return services.auth.ChangePassword(request, metadata=bearer(token))

    assert await code_of(change("wrong one", "brand new secret")) == grpc.StatusCode.INVALID_ARGUMENT
    assert await code_of(change(PASSWORD, "password1")) == grpc.StatusCode.INVALID_ARGUMENT  # common
    assert await code_of(change(PASSWORD, "brand new secret")) == grpc.StatusCode.OK
    assert await services.login(name, "brand new secret")
    with pytest.raises(grpc.aio.AioRpcError):
        await services.login(name, PASSWORD)


async def test_deleting_the_account_deletes_the_cigars_and_refuses_the_users_tokens_everywhere(
    services: Services,
) -> None:
    name = unique()
    user = await services.register(name)
    token = await services.login(name)
    await services.create_cigar(token)
    await services.create_cigar(token)
    assert await code_of(
        services.auth.DeleteMe(auth_pb2.DeleteMeRequest(current_password=PASSWORD), metadata=bearer(token))
    ) == (grpc.StatusCode.OK)
    for call in (
        services.auth.GetMe(auth_pb2.GetMeRequest(), metadata=bearer(token)),
        services.collection.ListMyCigars(collection_pb2.ListMyCigarsRequest(), metadata=bearer(token)),
        services.collection.CreateCigar(
            collection_pb2.CreateCigarRequest(name="n", brand="b", rating=3), metadata=bearer(token)
        ),
    ):
        assert await code_of(call) == grpc.StatusCode.UNAUTHENTICATED
    listed = await services.collection.ListCigars(collection_pb2.ListCigarsRequest(limit=100))
    assert all(c.owner_id != user.id for c in listed.cigars)
    again = await services.register(name)  # the username is free again, under a new id
    assert again.id != user.id


async def test_an_access_token_cannot_delete_cigars_through_the_internal_rpc(services: Services) -> None:
    name = unique()
    await services.register(name)
    token = await services.login(name)
    await services.create_cigar(token)
    call = services.collection.DeleteMyCigars(collection_pb2.DeleteMyCigarsRequest(), metadata=bearer(token))
    assert await code_of(call) == grpc.StatusCode.UNAUTHENTICATED
    mine = await services.collection.ListMyCigars(collection_pb2.ListMyCigarsRequest(), metadata=bearer(token))
    assert len(mine.cigars) == 1


async def test_the_emailed_token_verifies_the_address_once(services: Services) -> None:
    name = unique()
    await services.register(name)
    email_token = await services.verification_token(f"{name}@example.com")
    verified = await services.auth.VerifyEmail(auth_pb2.VerifyEmailRequest(token=email_token))
    assert (verified.username, verified.email_verified) == (name, True)
    me = await services.auth.GetMe(auth_pb2.GetMeRequest(), metadata=bearer(await services.login(name)))
    assert me.email_verified
    reuse = services.auth.VerifyEmail(auth_pb2.VerifyEmailRequest(token=email_token))
    assert await code_of(reuse) == grpc.StatusCode.INVALID_ARGUMENT
    assert await code_of(services.auth.VerifyEmail(auth_pb2.VerifyEmailRequest(token="x" * 43))) == (
        grpc.StatusCode.INVALID_ARGUMENT
    )


async def test_a_token_sent_to_a_former_address_no_longer_verifies(services: Services) -> None:
    name = unique()
    await services.register(name)
    old_token = await services.verification_token(f"{name}@example.com")
    token = await services.login(name)
    await services.auth.UpdateMe(
        auth_pb2.UpdateMeRequest(email=f"{name}@other.example.com", current_password=PASSWORD), metadata=bearer(token)
    )
    assert await code_of(services.auth.VerifyEmail(auth_pb2.VerifyEmailRequest(token=old_token))) == (
        grpc.StatusCode.INVALID_ARGUMENT
    )
    new_token = await services.verification_token(f"{name}@other.example.com")
    assert (await services.auth.VerifyEmail(auth_pb2.VerifyEmailRequest(token=new_token))).email_verified


async def test_a_password_change_refuses_every_older_token_in_both_services(services: Services) -> None:
    name = unique()
    await services.register(name)
    old, other_session = await services.login(name), await services.login(name)
    await services.create_cigar(old)
    request = auth_pb2.ChangePasswordRequest(current_password=PASSWORD, new_password="brand new secret")
    await services.auth.ChangePassword(request, metadata=bearer(old))
    for token in (old, other_session):
        for call in (
            services.auth.GetMe(auth_pb2.GetMeRequest(), metadata=bearer(token)),
            services.collection.ListMyCigars(collection_pb2.ListMyCigarsRequest(), metadata=bearer(token)),
            services.collection.CreateCigar(
                collection_pb2.CreateCigarRequest(name="n", brand="b", rating=3), metadata=bearer(token)
            ),
        ):
            assert await code_of(call) == grpc.StatusCode.UNAUTHENTICATED
    new = await services.login(name, "brand new secret")
    mine = await services.collection.ListMyCigars(collection_pb2.ListMyCigarsRequest(), metadata=bearer(new))
    assert len(mine.cigars) == 1  # the collection is the user's still
    assert (await services.auth.GetMe(auth_pb2.GetMeRequest(), metadata=bearer(new))).username == name


async def test_a_stolen_token_cannot_guess_its_way_to_a_new_password(services: Services) -> None:
    name, thief = unique(), "198.51.100.66"
    await services.register(name)
    stolen = await services.login(name)
    metadata = (*bearer(stolen), *as_gateway(thief))

    def change(current: str):
        request = auth_pb2.ChangePasswordRequest(current_password=current, new_password="the thief's own one")
        return services.auth.ChangePassword(request, metadata=metadata)

    assert [await code_of(change(f"guess {i}")) for i in range(5)] == [grpc.StatusCode.INVALID_ARGUMENT] * 5
    assert await code_of(change(PASSWORD)) == grpc.StatusCode.RESOURCE_EXHAUSTED  # the right one, too late
    delete = services.auth.DeleteMe(auth_pb2.DeleteMeRequest(current_password=PASSWORD), metadata=metadata)
    assert await code_of(delete) == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert await services.login(name)  # the owner, from their own address, still logs in with the old password


async def test_changing_the_email_or_deleting_the_account_needs_the_password(services: Services) -> None:
    name = unique()
    await services.register(name)
    token = await services.login(name)
    for current in ("", "not it"):
        email = auth_pb2.UpdateMeRequest(email=f"{name}@evil.example.com", current_password=current)
        assert await code_of(services.auth.UpdateMe(email, metadata=bearer(token))) == grpc.StatusCode.INVALID_ARGUMENT
        delete = auth_pb2.DeleteMeRequest(current_password=current)
        assert await code_of(services.auth.DeleteMe(delete, metadata=bearer(token))) == grpc.StatusCode.INVALID_ARGUMENT
    me = await services.auth.GetMe(auth_pb2.GetMeRequest(), metadata=bearer(token))
    assert me.email == f"{name}@example.com"


async def test_an_access_token_cannot_revoke_tokens_through_the_internal_rpc(services: Services) -> None:
    name = unique()
    await services.register(name)
    token = await services.login(name)
    call = services.collection.RevokeMyTokens(
        collection_pb2.RevokeMyTokensRequest(min_token_version=99), metadata=bearer(token)
    )
    assert await code_of(call) == grpc.StatusCode.UNAUTHENTICATED
    await services.create_cigar(token)  # still good


async def test_a_cigar_written_while_its_owner_is_deleted_goes_with_the_account(services: Services) -> None:
    # The race: a CreateCigar (or a file import) whose insert is still uncommitted when the account deletion
    # deletes the owner's cigars. On PostgreSQL the deletion's DELETE did not see that row and the insert had
    # checked for the deletion before it was committed: the cigar outlived its owner, in the public list and
    # deletable by no one. The deletion now waits for writes in flight (on SQLite, writes never overlap).
    name = unique()
    user = await services.register(name)
    token = await services.login(name)
    engine = create_engine(services.collection_db_url)
    try:
        async with engine.connect() as racing:
            transaction = await racing.begin()
            await racing.execute(
                text("INSERT INTO cigars (name, brand, origin, flavor_notes, rating, owner_id) "
                     "VALUES ('raced', 'b', '', '', 3, :owner)"),
                {"owner": user.id},
            )  # fmt: skip
            deletion = asyncio.ensure_future(
                code_of(
                    services.auth.DeleteMe(auth_pb2.DeleteMeRequest(current_password=PASSWORD), metadata=bearer(token))
                )
            )
            if services.backend == "postgres":
                await until_a_lock_waits_on_cigars(services.collection_db_url)
            await transaction.commit()
        assert await deletion == grpc.StatusCode.OK
    finally:
        await engine.dispose()
    listed = await services.collection.ListCigars(collection_pb2.ListCigarsRequest(owner_id=user.id, limit=100))
    assert list(listed.cigars) == []


async def until_a_lock_waits_on_cigars(url: str) -> None:
    """Until some transaction waits for a lock on the cigars table (the deletion, for our insert): at most 10 s."""
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            for _ in range(200):
                waiting = await conn.scalar(
                    text("SELECT count(*) FROM pg_locks WHERE relation = 'cigars'::regclass AND NOT granted")
                )
                if waiting:
                    return
                await asyncio.sleep(0.05)
        raise AssertionError("the account deletion never waited for the insert in flight")
    finally:
        await engine.dispose()
