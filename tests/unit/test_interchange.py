"""The collection as a file: CSV and JSON lines out, CSV in, whatever the chunks the bytes arrive in."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import pytest

from collection_service.app import interchange
from collection_service.app.interchange import CSV, NDJSON, encode, export_format, parse_csv
from collection_service.domain import Cigar, CigarFields, InvalidInput

TRICKY = [
    Cigar(1, 'Ñandú "Especial", no. 2', "Padrón", "Nicaragua", "cocoa\ncedar, \r\nleather\rend", 5, 9),
    Cigar(2, "日本 🚬", "=SUM(A1)", "", "", 1, 9),
    Cigar(3, " leading and trailing ", "b", "c", "'quoted'", 3, 9),
]


async def chunks(data: bytes, size: int) -> AsyncIterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


async def parse(data: bytes, size: int = 7, max_bytes: int = 10**6, max_cigars: int = 1000) -> list[CigarFields]:
    return [p.fields for p in await parse_csv(chunks(data, size), max_bytes, max_cigars)]


def fields(c: Cigar) -> CigarFields:
    return CigarFields(c.name, c.brand, c.origin, c.flavor_notes, c.rating)


@pytest.mark.parametrize("size", [1, 2, 3, 5, 64, 10_000])
async def test_an_exported_csv_imports_back_exactly_whatever_the_chunking(size: int) -> None:
    exported = b"".join(encode(TRICKY, CSV, header=True))
    assert exported.startswith(b"id,name,brand,origin,flavor_notes,rating\r\n")
    assert await parse(exported, size) == [fields(c) for c in TRICKY]


def test_json_lines_carry_every_field_one_cigar_a_line() -> None:
    lines = b"".join(encode(TRICKY, NDJSON, header=True)).decode().splitlines()
    assert [json.loads(line) for line in lines] == [c._asdict() for c in TRICKY]


def test_an_export_comes_in_chunks_of_bounded_size() -> None:
    many = [Cigar(i, "n" * 90, "b", "o", "f" * 900, 3, 1) for i in range(1, 1001)]
    pieces = list(encode(many, CSV, header=True))
    assert len(pieces) > 10 and max(map(len, pieces)) < 2 * interchange.CHUNK_BYTES


def test_the_accept_header_chooses_json_lines_else_csv() -> None:
    assert export_format("application/x-ndjson") == NDJSON
    assert export_format("text/csv, application/x-ndjson;q=0.5") == NDJSON
    assert export_format(None) == CSV and export_format("*/*") == CSV


async def test_columns_may_come_in_any_order_optional_ones_may_be_missing_and_a_bom_and_blank_lines_are_ignored() -> (
    None
):
    data = "\ufeffRating,Brand,NAME,owner_id\n4,Padrón,Robusto,77\n\n5,Oliva,Serie V,77\n".encode()
    assert await parse(data) == [
        CigarFields("Robusto", "Padrón", "", "", 4),
        CigarFields("Serie V", "Oliva", "", "", 5),
    ]


async def test_every_invalid_line_is_named_and_nothing_is_returned() -> None:
    data = b'name,brand,rating\r\nok,ok,3\r\n,b,9\r\nx,y\r\na,b,four\r\n"never closed,b,3\r\n'
    with pytest.raises(InvalidInput) as err:
        await parse(data)
    assert [v.field for v in err.value.violations] == [
        "line 3.name",
        "line 3.rating",
        "line 4",
        "line 5.rating",
        "line 6",
    ]


async def test_only_the_first_invalid_lines_are_listed_and_the_rest_counted() -> None:
    data = b"name,brand,rating\n" + b"a,b,0\n" * 30
    with pytest.raises(InvalidInput) as err:
        await parse(data)
    listed = err.value.violations
    assert len(listed) == interchange.REPORTED + 1
    assert listed[-1].field == "body" and listed[-1].description.startswith("10 more invalid lines")


@pytest.mark.parametrize(
    ("data", "field"),
    [
        (b"", "header"),
        (b"name,brand\n", "header"),
        (b"name,brand,rating,colour\n", "header"),
        (b"name,brand,rating\n\xff\xfe,b,3\n", "body"),
    ],
)
async def test_a_file_without_a_usable_header_or_not_in_utf8_is_refused(data: bytes, field: str) -> None:
    with pytest.raises(InvalidInput) as err:
        await parse(data)
    assert err.value.violations[0].field == field


async def test_a_file_over_the_limits_is_refused_not_cut() -> None:
    data = b"name,brand,rating\n" + b"a,b,3\n" * 50
    with pytest.raises(InvalidInput, match="at most 100 bytes"):
        await parse(data, max_bytes=100)
    with pytest.raises(InvalidInput, match="at most 10 cigars"):
        await parse(data, max_cigars=10)
