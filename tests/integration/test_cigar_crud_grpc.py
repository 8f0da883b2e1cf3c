"""GetCigar, UpdateCigar, DeleteCigar, filters and page tokens through a real channel, on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid

import grpc
import pytest
from cigar.collection.v1 import collection_pb2 as pb
from google.protobuf import field_mask_pb2

from tests.integration.conftest import Services, bearer
from tests.integration.test_collection_grpc import new_token, violated_fields


async def fails_with(call, code: grpc.StatusCode) -> grpc.aio.AioRpcError:  # type: ignore[no-untyped-def]
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await call
    assert err.value.code() == code, err.value.details()
    return err.value


async def test_get_cigar_is_public_and_unknown_ids_are_not_found(services: Services) -> None:
    _, token = await new_token(services)
    made = await services.create_cigar(token, name="Ñandú 🚬")
    assert await services.collection.GetCigar(pb.GetCigarRequest(id=made.id)) == made
    await fails_with(services.collection.GetCigar(pb.GetCigarRequest(id=2**31 - 1)), grpc.StatusCode.NOT_FOUND)


async def test_update_without_a_mask_changes_only_the_fields_sent(services: Services) -> None:
    _, token = await new_token(services)
    made = await services.create_cigar(token, origin="Cuba", flavor_notes="cedar")
    request = pb.UpdateCigarRequest(id=made.id, cigar=pb.CigarChanges(rating=5, origin=""))
    updated = await services.collection.UpdateCigar(request, metadata=bearer(token))
    assert (updated.name, updated.brand, updated.origin, updated.flavor_notes, updated.rating) == (
        made.name, made.brand, "", "cedar", 5,
    )  # fmt: skip
    assert await services.collection.GetCigar(pb.GetCigarRequest(id=made.id)) == updated


async def test_update_with_a_mask_changes_exactly_the_masked_fields(services: Services) -> None:
    _, token = await new_token(services)
    made = await services.create_cigar(token, origin="Cuba", flavor_notes="cedar")
    mask = field_mask_pb2.FieldMask(paths=["flavor_notes", "name"])
    request = pb.UpdateCigarRequest(
        id=made.id, cigar=pb.CigarChanges(name="Renamed", rating=1), update_mask=mask
    )  # rating: not masked
    updated = await services.collection.UpdateCigar(request, metadata=bearer(token))
    assert (updated.name, updated.flavor_notes, updated.origin, updated.rating) == ("Renamed", "", "Cuba", 4)


async def test_update_refuses_bad_values_and_masks_naming_the_fields(services: Services) -> None:
    _, token = await new_token(services)
    made = await services.create_cigar(token)
    bad = pb.UpdateCigarRequest(id=made.id, cigar=pb.CigarChanges(name=" ", brand="b" * 101, rating=0))
    err = await fails_with(
        services.collection.UpdateCigar(bad, metadata=bearer(token)), grpc.StatusCode.INVALID_ARGUMENT
    )
    assert violated_fields(err) == {"name", "brand", "rating"}
    masked = pb.UpdateCigarRequest(id=made.id, update_mask=field_mask_pb2.FieldMask(paths=["owner_id"]))
    err = await fails_with(
        services.collection.UpdateCigar(masked, metadata=bearer(token)), grpc.StatusCode.INVALID_ARGUMENT
    )
    assert violated_fields(err) == {"update_mask"}
    assert await services.collection.GetCigar(pb.GetCigarRequest(id=made.id)) == made


async def test_only_the_owner_may_update_or_delete(services: Services) -> None:
    _, owner = await new_token(services)
    _, other = await new_token(services)
    made = await services.create_cigar(owner)
    update = services.collection.UpdateCigar(
        pb.UpdateCigarRequest(id=made.id, cigar=pb.CigarChanges(name="mine now")), metadata=bearer(other)
    )
    await fails_with(update, grpc.StatusCode.PERMISSION_DENIED)
    delete = services.collection.DeleteCigar(pb.DeleteCigarRequest(id=made.id), metadata=bearer(other))
    await fails_with(delete, grpc.StatusCode.PERMISSION_DENIED)
    await fails_with(
        services.collection.DeleteCigar(pb.DeleteCigarRequest(id=made.id)), grpc.StatusCode.UNAUTHENTICATED
    )
    assert await services.collection.GetCigar(pb.GetCigarRequest(id=made.id)) == made


async def test_delete_removes_the_cigar_and_a_second_delete_is_not_found(services: Services) -> None:
    _, token = await new_token(services)
    made = await services.create_cigar(token)
    await services.collection.DeleteCigar(pb.DeleteCigarRequest(id=made.id), metadata=bearer(token))
    await fails_with(services.collection.GetCigar(pb.GetCigarRequest(id=made.id)), grpc.StatusCode.NOT_FOUND)
    again = services.collection.DeleteCigar(pb.DeleteCigarRequest(id=made.id), metadata=bearer(token))
    await fails_with(again, grpc.StatusCode.NOT_FOUND)
    patch = services.collection.UpdateCigar(
        pb.UpdateCigarRequest(id=made.id, cigar=pb.CigarChanges(rating=2)), metadata=bearer(token)
    )
    await fails_with(patch, grpc.StatusCode.NOT_FOUND)


async def test_filters_combine_and_keep_id_order(services: Services) -> None:
    owner_id, token = await new_token(services)
    brand = f"Brand {uuid.uuid4().hex[:6]}"
    a = await services.create_cigar(token, brand=brand, origin="Cuba", rating=5, name="Short Story 50%_off")
    b = await services.create_cigar(token, brand=brand, origin="Nicaragua", rating=3, name="short story two")
    c = await services.create_cigar(token, brand=brand, origin="Cuba", rating=2, name="Robusto")

    async def ids(**filters: object) -> list[int]:
        reply = await services.collection.ListCigars(pb.ListCigarsRequest(limit=100, **filters))
        return [x.id for x in reply.cigars]

    assert await ids(brand=brand) == [a.id, b.id, c.id]
    assert await ids(brand=brand, origin="Cuba") == [a.id, c.id]
    assert await ids(brand=brand, min_rating=3) == [a.id, b.id]
    assert await ids(owner_id=owner_id) == [a.id, b.id, c.id]
    assert await ids(brand=brand, q="SHORT story") == [a.id, b.id]
    assert await ids(brand=brand, q="50%_") == [a.id]  # LIKE wildcards are taken literally
    assert await ids(brand=brand, q="%") == [a.id]
    assert await ids(brand=brand.upper()) == []  # brand and origin match exactly


async def test_page_tokens_walk_every_matching_cigar_once(services: Services) -> None:
    _, token = await new_token(services)
    brand = f"Paged {uuid.uuid4().hex[:6]}"
    made = [(await services.create_cigar(token, brand=brand, name=f"p{i}")).id for i in range(7)]
    seen, page_token, pages = [], "", 0
    while True:
        reply = await services.collection.ListCigars(
            pb.ListCigarsRequest(brand=brand, page_size=3, page_token=page_token)
        )
        seen += [c.id for c in reply.cigars]
        pages += 1
        page_token = reply.next_page_token
        if not page_token:
            break
    assert (seen, pages) == (made, 3)
    with_skip = await services.collection.ListCigars(pb.ListCigarsRequest(brand=brand, skip=2, limit=2))
    assert [c.id for c in with_skip.cigars] == made[2:4]
    assert with_skip.next_page_token  # skip/limit callers get a token to continue with too


async def test_bad_filters_and_tokens_are_invalid_naming_the_field(services: Services) -> None:
    cases = [
        (pb.ListCigarsRequest(min_rating=9), "min_rating"),
        (pb.ListCigarsRequest(owner_id=-3), "owner_id"),
        (pb.ListCigarsRequest(page_token="garbage!"), "page_token"),
        (pb.ListCigarsRequest(page_size=-1), "page_size"),
        (pb.ListCigarsRequest(limit=5, page_size=5), "page_size"),
    ]
    for request, field in cases:
        err = await fails_with(services.collection.ListCigars(request), grpc.StatusCode.INVALID_ARGUMENT)
        assert violated_fields(err) == {field}


async def test_the_id_of_a_deleted_cigar_is_never_given_to_another_cigar(services: Services) -> None:
    # Without AUTOINCREMENT, SQLite hands out max(id) + 1: deleting the newest cigar freed its id, and a stale
    # link (/cigars/<id>) then showed someone else's cigar.
    _, owner = await new_token(services)
    _, stranger = await new_token(services)
    await services.create_cigar(owner)
    newest = await services.create_cigar(owner, name="Deleted")
    await services.collection.DeleteCigar(pb.DeleteCigarRequest(id=newest.id), metadata=bearer(owner))
    after = await services.create_cigar(stranger, name="Someone else's")
    assert after.id > newest.id
    await fails_with(services.collection.GetCigar(pb.GetCigarRequest(id=newest.id)), grpc.StatusCode.NOT_FOUND)
