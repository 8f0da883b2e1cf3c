"""ExportMyCigars and ImportMyCigars through a real gRPC channel, on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
import json
import uuid

import grpc
import pytest
from cigar.collection.v1 import collection_pb2
from google.api import httpbody_pb2

from tests.integration.conftest import Services, bearer
from tests.integration.test_collection_grpc import violated_fields

CSV_HEADER = "id,name,brand,origin,flavor_notes,rating\r\n"


async def new_user(services: Services) -> tuple[int, str]:
    name = f"xch_{uuid.uuid4().hex[:8]}"
    user = await services.register(name)
    return user.id, await services.login(name)


async def export(services: Services, token: str, fmt: int = 0, accept: str | None = None) -> tuple[str, bytes]:
    metadata = bearer(token) + ((("accept", accept),) if accept else ())
    call = services.collection.ExportMyCigars(collection_pb2.ExportMyCigarsRequest(format=fmt), metadata=metadata)
    messages = [m async for m in call]
    return messages[0].content_type, b"".join(m.data for m in messages)


async def upload(services: Services, token: str, data: bytes, piece: int = 1000, content_type: str = "text/csv"):  # type: ignore[no-untyped-def]
    def requests():  # type: ignore[no-untyped-def]
        for start in range(0, max(len(data), 1), piece):
            body = httpbody_pb2.HttpBody(
                content_type=content_type if start == 0 else "", data=data[start : start + piece]
            )
            yield collection_pb2.ImportMyCigarsRequest(body=body)

    return await services.collection.ImportMyCigars(requests(), metadata=bearer(token))


def csv_of(rows: list[tuple[str, str, str, str, int]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["name", "brand", "origin", "flavor_notes", "rating"])
    writer.writerows(rows)
    return out.getvalue().encode()


async def test_an_export_imported_by_someone_else_gives_them_the_same_collection_unicode_included(
    services: Services,
) -> None:
    rows = [("Ñandú 日本 🚬", 'Padrón "1964"', "Nicaragua", "cocoa,\ncedar\r\nleather", 5), ("b", "c", "", "", 1)]
    _, alice = await new_user(services)
    imported = await upload(services, alice, csv_of(rows), piece=7)
    assert imported.imported == 2 and [line.line for line in imported.lines] == [2, 5]  # the notes span 3 lines
    content_type, exported = await export(services, alice)
    assert content_type == "text/csv; charset=utf-8" and exported.startswith(CSV_HEADER.encode())
    _, bob = await new_user(services)
    await upload(services, bob, exported, piece=5)
    mine = (await services.collection.ListMyCigars(collection_pb2.ListMyCigarsRequest(), metadata=bearer(bob))).cigars
    assert [(c.name, c.brand, c.origin, c.flavor_notes, c.rating) for c in mine] == rows


async def test_a_collection_of_several_pages_exports_whole_in_id_order(services: Services) -> None:
    owner, token = await new_user(services)
    rows = [(f"Cigar {i}", "Brand", "Cuba", "n" * (i % 50), i % 5 + 1) for i in range(2500)]
    ids = [line.id for line in (await upload(services, token, csv_of(rows), piece=64 * 1024)).lines]
    assert ids == sorted(ids) and len(set(ids)) == 2500
    _, exported = await export(services, token)
    records = list(csv.reader(io.StringIO(exported.decode(), newline="")))[1:]
    assert [int(r[0]) for r in records] == ids
    assert [(r[1], r[2], r[3], r[4], int(r[5])) for r in records] == rows


async def test_json_lines_come_with_the_accept_header_or_the_format_field(services: Services) -> None:
    owner, token = await new_user(services)
    await upload(services, token, csv_of([("a", "b", "", "", 3)]))
    for fmt, accept in ((0, "application/x-ndjson"), (collection_pb2.EXPORT_FORMAT_NDJSON, None)):
        content_type, data = await export(services, token, fmt, accept)
        [line] = data.decode().splitlines()
        assert content_type == "application/x-ndjson"
        assert json.loads(line) | {"id": 0} == {"id": 0, "name": "a", "brand": "b", "origin": "", "flavor_notes": "",
                                                "rating": 3, "owner_id": owner}  # fmt: skip


async def test_an_empty_collection_exports_its_header_or_nothing_but_always_a_content_type(services: Services) -> None:
    _, token = await new_user(services)
    assert await export(services, token) == ("text/csv; charset=utf-8", CSV_HEADER.encode())
    assert await export(services, token, collection_pb2.EXPORT_FORMAT_NDJSON) == ("application/x-ndjson", b"")


async def test_a_file_with_any_invalid_line_adds_nothing_and_names_every_invalid_line(services: Services) -> None:
    _, token = await new_user(services)
    data = csv_of([("ok", "ok", "", "", 3), ("", "b", "", "", 3), ("x", "y", "", "", 9)])
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await upload(services, token, data)
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert violated_fields(err.value) == {"line 3.name", "line 4.rating"}
    _, exported = await export(services, token)
    assert exported == CSV_HEADER.encode()


async def test_export_and_import_need_the_callers_token(services: Services) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as err:
        _ = [m async for m in services.collection.ExportMyCigars(collection_pb2.ExportMyCigarsRequest())]
    assert err.value.code() == grpc.StatusCode.UNAUTHENTICATED
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await services.collection.ImportMyCigars(iter([collection_pb2.ImportMyCigarsRequest()]))
    assert err.value.code() == grpc.StatusCode.UNAUTHENTICATED


async def test_only_csv_is_imported(services: Services) -> None:
    _, token = await new_user(services)
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await upload(services, token, b'{"name": "a"}', content_type="application/json")
    assert violated_fields(err.value) == {"content_type"}
