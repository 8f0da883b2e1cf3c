"""collection_service's use cases for reading, changing, removing and paging cigars, over fakes."""

from __future__ import annotations

import base64

import pytest

from collection_service.app import paging
from collection_service.app.cigars import Cigars
from collection_service.domain import (
    CigarFields,
    CigarFilter,
    CigarNotFound,
    CigarPatch,
    InvalidInput,
    InvalidToken,
    NotCigarOwner,
    PageRequest,
)
from service_kit.tokens import TokenRejected
from tests.unit.fakes import FakeCigars, FakeTokens

ALICE, BOB = "user-1", "user-2"


@pytest.fixture
def collection() -> tuple[Cigars, FakeCigars]:
    store = FakeCigars()
    return Cigars(store, FakeTokens()), store


def fields(**overrides: object) -> CigarFields:
    return CigarFields(**{"name": "n", "brand": "b", "origin": "", "flavor_notes": "", "rating": 3, **overrides})


async def test_get_cigar_reads_anyones_cigar_and_404s_an_unknown_id(collection) -> None:
    service, _ = collection
    cigar = await service.create_cigar(ALICE, fields())
    assert await service.get_cigar(cigar.id) == cigar
    with pytest.raises(CigarNotFound):
        await service.get_cigar(cigar.id + 1)


async def test_update_changes_only_the_patched_fields(collection) -> None:
    service, store = collection
    cigar = await service.create_cigar(ALICE, fields(origin="Cuba", flavor_notes="cedar"))
    updated = await service.update_cigar(ALICE, cigar.id, CigarPatch(rating=5, origin=""))
    assert (updated.name, updated.brand, updated.origin, updated.flavor_notes, updated.rating) == (
        "n", "b", "", "cedar", 5,
    )  # fmt: skip
    assert store.rows == [updated]


async def test_update_by_another_user_is_refused_and_changes_nothing(collection) -> None:
    service, store = collection
    cigar = await service.create_cigar(ALICE, fields())
    with pytest.raises(NotCigarOwner):
        await service.update_cigar(BOB, cigar.id, CigarPatch(name="stolen"))
    with pytest.raises(NotCigarOwner):
        await service.update_cigar(BOB, cigar.id, CigarPatch())
    assert store.rows == [cigar]


async def test_update_checks_the_token_then_the_values_then_the_id(collection) -> None:
    service, _ = collection
    with pytest.raises(TokenRejected):
        await service.update_cigar("forged", 1, CigarPatch(rating=9))
    with pytest.raises(InvalidInput):
        await service.update_cigar(ALICE, 1, CigarPatch(rating=9))
    with pytest.raises(CigarNotFound):
        await service.update_cigar(ALICE, 1, CigarPatch(rating=2))


async def test_an_empty_patch_returns_the_owners_cigar_unchanged(collection) -> None:
    service, _ = collection
    cigar = await service.create_cigar(ALICE, fields())
    assert await service.update_cigar(ALICE, cigar.id, CigarPatch()) == cigar


async def test_delete_is_owner_only_and_404s_once_gone(collection) -> None:
    service, store = collection
    cigar = await service.create_cigar(ALICE, fields())
    with pytest.raises(NotCigarOwner):
        await service.delete_cigar(BOB, cigar.id)
    await service.delete_cigar(ALICE, cigar.id)
    assert store.rows == []
    with pytest.raises(CigarNotFound):
        await service.delete_cigar(ALICE, cigar.id)


async def test_page_tokens_walk_a_filtered_list_without_gaps_or_repeats(collection) -> None:
    service, _ = collection
    for i in range(7):
        await service.create_cigar(ALICE if i % 2 else BOB, fields(brand="Padrón" if i < 5 else "Other"))
    f = CigarFilter(brand="Padrón")
    seen, token = [], ""
    while True:
        page = await service.list_cigars(f, PageRequest(page_size=2, page_token=token))
        seen += [c.id for c in page.cigars]
        token = page.next_page_token
        if not token:
            break
    assert seen == [1, 2, 3, 4, 5]


async def test_a_page_token_is_refused_with_other_filters_or_when_forged(collection) -> None:
    service, _ = collection
    for _ in range(3):
        await service.create_cigar(ALICE, fields())
    token = (await service.list_cigars(CigarFilter(), PageRequest(page_size=1))).next_page_token
    assert token
    huge = paging.encode(2**31, CigarFilter())  # well-formed, but no int32 id is that large
    for f, t in [
        (CigarFilter(brand="b"), token),
        (CigarFilter(), "not-a-token"),
        (CigarFilter(), token[:-2]),
        (CigarFilter(), huge),
        # deeply nested JSON made json.loads raise RecursionError (a 500); and anything far longer than a real token
        (CigarFilter(), base64.urlsafe_b64encode(b"[" * 5000 + b"]" * 5000).decode()),
        (CigarFilter(), base64.urlsafe_b64encode(b"[" * 90 + b"]" * 90).decode()),
        (CigarFilter(), token + "A" * 1000),
    ]:
        with pytest.raises(InvalidInput) as exc:
            await service.list_cigars(f, PageRequest(page_token=t))
        assert [v.field for v in exc.value.violations] == ["page_token"]


async def test_the_last_page_has_no_next_token(collection) -> None:
    service, _ = collection
    for _ in range(2):
        await service.create_cigar(ALICE, fields())
    page = await service.list_cigars(CigarFilter(), PageRequest(limit=2))
    assert (len(page.cigars), page.next_page_token) == (2, "")


async def test_a_deleted_users_token_adds_changes_and_lists_nothing_and_gets_401(collection) -> None:
    """Tokens are verified offline, so a deleted user's token still verifies: the store refuses the add,
    and a call that finds nothing of the caller's says the account is gone (not 403, 404 or [])."""
    service, store = collection
    bobs = await service.create_cigar(BOB, fields())
    store.deleted_owners.add(1)  # alice's account is deleted (she owned nothing)
    for call in (
        service.create_cigar(ALICE, fields()),
        service.list_my_cigars(ALICE),
        service.update_cigar(ALICE, bobs.id, CigarPatch(name="mine now")),
        service.update_cigar(ALICE, bobs.id, CigarPatch()),
        service.delete_cigar(ALICE, bobs.id),
    ):
        with pytest.raises(InvalidToken, match="deleted"):
            await call
    assert store.rows == [bobs]
    assert await service.list_my_cigars("user-3") == []  # a live user with no cigars: an empty list


async def test_create_cigar_belongs_to_the_token_owner(collection) -> None:
    service, store = collection
    cigar = await service.create_cigar("user-5", fields())
    assert cigar.owner_id == 5
    assert store.rows == [cigar]


async def test_create_cigar_checks_the_token_before_the_input(collection) -> None:
    service, store = collection
    with pytest.raises(TokenRejected):
        await service.create_cigar("forged", fields(rating=99))
    with pytest.raises(InvalidInput):
        await service.create_cigar("user-1", fields(rating=99))
    assert store.rows == []


async def test_list_my_cigars_filters_by_owner(collection) -> None:
    service, _ = collection
    await service.create_cigar("user-1", fields(name="a"))
    await service.create_cigar("user-2", fields(name="b"))
    assert [c.name for c in await service.list_my_cigars("user-2")] == ["b"]
