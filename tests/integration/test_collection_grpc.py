"""collection_service through a real gRPC channel, on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid

import grpc
import pytest
from cigar.collection.v1 import collection_pb2
from google.rpc import error_details_pb2
from grpc_status import rpc_status

from tests.integration.conftest import Services, bearer


async def new_token(services: Services) -> tuple[int, str]:
    name = f"col_{uuid.uuid4().hex[:8]}"
    user = await services.register(name)
    return user.id, await services.login(name)


def violated_fields(exc: grpc.aio.AioRpcError) -> set[str]:
    status = rpc_status.from_call(exc)
    fields: set[str] = set()
    for any_ in status.details:
        if any_.Is(error_details_pb2.BadRequest.DESCRIPTOR):
            bad = error_details_pb2.BadRequest()
            any_.Unpack(bad)
            fields |= {v.field for v in bad.field_violations}
    return fields


async def test_create_cigar_stores_it_for_the_token_owner(services: Services) -> None:
    user_id, token = await new_token(services)
    cigar = await services.create_cigar(token, name="Ñandú 日本 🚬", origin="Cuba", flavor_notes="cedar")
    assert cigar.id > 0
    assert cigar.owner_id == user_id
    assert (cigar.name, cigar.origin, cigar.flavor_notes, cigar.rating) == ("Ñandú 日本 🚬", "Cuba", "cedar", 4)


async def test_create_cigar_without_a_token_is_unauthenticated_and_stores_nothing(services: Services) -> None:
    before = await services.collection.ListCigars(collection_pb2.ListCigarsRequest(limit=100))
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await services.collection.CreateCigar(collection_pb2.CreateCigarRequest(name="x", brand="y", rating=3))
    assert err.value.code() == grpc.StatusCode.UNAUTHENTICATED
    after = await services.collection.ListCigars(collection_pb2.ListCigarsRequest(limit=100))
    assert len(after.cigars) == len(before.cigars)


async def test_a_token_signed_by_another_key_is_refused(services: Services, tmp_path) -> None:
    from datetime import UTC, datetime, timedelta

    from auth_service.adapters.keys import create_key_file
    from auth_service.adapters.tokens import JwtIssuer

    stranger = create_key_file(tmp_path / "stranger.pem")
    forged = JwtIssuer(stranger, "cigar-auth", "cigar-api", timedelta(minutes=5), lambda: datetime.now(UTC))
    token = forged.issue(1, 0).access_token
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await services.create_cigar(token)
    assert err.value.code() == grpc.StatusCode.UNAUTHENTICATED


async def test_invalid_cigars_are_refused_naming_every_field(services: Services) -> None:
    _, token = await new_token(services)
    request = collection_pb2.CreateCigarRequest(name=" ", brand="", origin="o" * 101, rating=6)
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await services.collection.CreateCigar(request, metadata=bearer(token))
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert violated_fields(err.value) == {"name", "brand", "origin", "rating"}


async def test_list_cigars_pages_in_id_order(services: Services) -> None:
    user_id, token = await new_token(services)
    made = [(await services.create_cigar(token, name=f"page-{i}")).id for i in range(5)]
    # this user's cigars: the shared database holds other tests' cigars too, more than a page of them
    everything = await services.collection.ListCigars(collection_pb2.ListCigarsRequest(owner_id=user_id, limit=100))
    ids = [c.id for c in everything.cigars]
    assert ids == sorted(ids) == made
    page = await services.collection.ListCigars(collection_pb2.ListCigarsRequest(owner_id=user_id, skip=1, limit=2))
    assert [c.id for c in page.cigars] == made[1:3]
    first = await services.collection.ListCigars(collection_pb2.ListCigarsRequest(limit=100))
    assert [c.id for c in first.cigars] == sorted(c.id for c in first.cigars)


async def test_list_cigars_defaults_to_ten(services: Services) -> None:
    _, token = await new_token(services)
    for i in range(11):
        await services.create_cigar(token, name=f"default-{i}")
    page = await services.collection.ListCigars(collection_pb2.ListCigarsRequest())
    assert len(page.cigars) == 10


@pytest.mark.parametrize(("skip", "limit", "field"), [(-1, 10, "skip"), (0, 0, "limit"), (0, 101, "limit")])
async def test_out_of_range_paging_is_invalid(services: Services, skip: int, limit: int, field: str) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await services.collection.ListCigars(collection_pb2.ListCigarsRequest(skip=skip, limit=limit))
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert violated_fields(err.value) == {field}


async def test_list_my_cigars_returns_only_the_callers(services: Services) -> None:
    mine_id, mine = await new_token(services)
    _, theirs = await new_token(services)
    await services.create_cigar(theirs, name="not mine")
    a = await services.create_cigar(mine, name="mine 1")
    b = await services.create_cigar(mine, name="mine 2")
    reply = await services.collection.ListMyCigars(collection_pb2.ListMyCigarsRequest(), metadata=bearer(mine))
    assert [c.id for c in reply.cigars] == [a.id, b.id]
    assert {c.owner_id for c in reply.cigars} == {mine_id}
