"""A collector's export and file import (collection_service's CigarExchange), over fakes."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from collection_service.app.exchange import CigarExchange
from collection_service.app.interchange import CSV
from collection_service.domain import Cigar, InvalidInput, InvalidToken
from service_kit.tokens import TokenRejected
from tests.unit.fakes import FakeCigars, FakeOwnImport, FakeTokens

ALICE = "user-1"


def exchange(store: FakeCigars, page: int = 2) -> CigarExchange:
    return CigarExchange(store, lambda: FakeOwnImport(store), FakeTokens(), page=page)


async def body(*pieces: bytes) -> AsyncIterator[bytes]:
    for piece in pieces:
        yield piece


async def collect(chunks: AsyncIterator[bytes]) -> bytes:
    return b"".join([c async for c in chunks])


async def test_an_export_reads_the_owners_cigars_a_page_at_a_time_and_nobody_elses() -> None:
    store = FakeCigars()
    store.rows = [Cigar(i, f"c{i}", "b", "", "", 3, 1 if i % 3 else 2) for i in range(1, 11)]
    exported = await collect(exchange(store).export_mine(ALICE, CSV))
    ids = [int(line.split(",")[0]) for line in exported.decode().splitlines()[1:]]
    assert ids == [i for i in range(1, 11) if i % 3]
    assert store.pages_read == 4  # 7 cigars in pages of 2


async def test_a_deleted_accounts_export_is_refused_before_anything_is_sent() -> None:
    store = FakeCigars()
    store.deleted_owners.add(1)
    chunks = exchange(store).export_mine(ALICE, CSV)
    with pytest.raises(InvalidToken, match="deleted"):
        await anext(chunks)


async def test_an_import_is_written_only_when_committed_whole() -> None:
    store = FakeCigars()
    lines = await exchange(store).import_mine(ALICE, "text/csv", body(b"name,brand,rating\n", b"a,b,3\nc,d,4\n"))
    assert [(line.line, line.id) for line in lines] == [(2, 1), (3, 2)]
    assert [(c.name, c.owner_id) for c in store.rows] == [("a", 1), ("c", 1)]
    with pytest.raises(InvalidInput):
        await exchange(store).import_mine(ALICE, "text/csv", body(b"name,brand,rating\ne,f,3\ng,h,0\n"))
    assert len(store.rows) == 2


async def test_a_deleted_accounts_import_adds_nothing() -> None:
    store = FakeCigars()
    store.deleted_owners.add(1)
    with pytest.raises(InvalidToken, match="deleted"):
        await exchange(store).import_mine(ALICE, "text/csv", body(b"name,brand,rating\na,b,3\n"))
    assert store.rows == []


async def test_the_token_is_checked_before_the_body_is_read() -> None:
    read = []

    async def watched() -> AsyncIterator[bytes]:
        read.append(True)
        yield b"name,brand,rating\n"

    with pytest.raises(TokenRejected):
        await exchange(FakeCigars()).import_mine("forged", "text/csv", watched())
    assert read == []
