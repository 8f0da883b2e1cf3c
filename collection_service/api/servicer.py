"""CollectionService over gRPC: protobuf in, one use case, protobuf out; errors go to errors.py."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from cigar.collection.v1 import collection_pb2, collection_pb2_grpc
from google.api import httpbody_pb2
from google.protobuf import empty_pb2

from service_kit.interceptors import ServicerContext
from service_kit.metadata import caller_token, metadata_value

from ..app.accounts import AccountEvents
from ..app.cigars import Cigars
from ..app.exchange import CigarExchange
from ..app.interchange import CSV, MEDIA_TYPES, NDJSON, export_format
from ..app.rules import build_patch
from ..domain import PATCHABLE, Cigar, CigarFields, CigarFilter, PageRequest


def _cigar_pb(c: Cigar) -> collection_pb2.Cigar:
    return collection_pb2.Cigar(
        id=c.id, name=c.name, brand=c.brand, origin=c.origin, flavor_notes=c.flavor_notes, rating=c.rating,
        owner_id=c.owner_id,
    )  # fmt: skip


def _add_cigars(container: Any, cigars: list[Cigar]) -> None:
    """Lists are built in place: a Cigar message passed to a constructor would be copied into the list."""
    add = container.add
    for c in cigars:
        add(id=c.id, name=c.name, brand=c.brand, origin=c.origin, flavor_notes=c.flavor_notes, rating=c.rating,
            owner_id=c.owner_id)  # fmt: skip


_FORMATS = {collection_pb2.EXPORT_FORMAT_CSV: CSV, collection_pb2.EXPORT_FORMAT_NDJSON: NDJSON}
_EXTENSIONS = {CSV: "csv", NDJSON: "ndjson"}


async def _upload(requests: AsyncIterator[collection_pb2.ImportMyCigarsRequest]) -> tuple[str, AsyncIterator[bytes]]:
    """The content type the first message names, and the bytes of every message in order."""
    first = await anext(requests, None)

    async def data() -> AsyncIterator[bytes]:
        if first is not None:
            yield first.body.data
            async for request in requests:
                yield request.body.data

    return (first.body.content_type if first is not None else ""), data()


class CollectionServicer(collection_pb2_grpc.CollectionServiceServicer):
    def __init__(self, service: Cigars, accounts: AccountEvents, exchange: CigarExchange) -> None:
        self._service = service
        self._accounts = accounts
        self._exchange = exchange

    async def ListCigars(
        self, request: collection_pb2.ListCigarsRequest, context: ServicerContext
    ) -> collection_pb2.ListCigarsResponse:
        f = CigarFilter(request.owner_id, request.brand, request.origin, request.min_rating, request.q)
        limit = request.limit if request.HasField("limit") else None
        page = await self._service.list_cigars(
            f, PageRequest(request.skip, limit, request.page_size, request.page_token)
        )
        response = collection_pb2.ListCigarsResponse(next_page_token=page.next_page_token)
        _add_cigars(response.cigars, page.cigars)
        return response

    async def GetCigar(self, request: collection_pb2.GetCigarRequest, context: ServicerContext) -> collection_pb2.Cigar:
        return _cigar_pb(await self._service.get_cigar(request.id))

    async def CreateCigar(
        self, request: collection_pb2.CreateCigarRequest, context: ServicerContext
    ) -> collection_pb2.Cigar:
        fields = CigarFields(
            name=request.name,
            brand=request.brand,
            origin=request.origin,
            flavor_notes=request.flavor_notes,
            rating=request.rating,
        )
        return _cigar_pb(await self._service.create_cigar(caller_token(context), fields))

    async def UpdateCigar(
        self, request: collection_pb2.UpdateCigarRequest, context: ServicerContext
    ) -> collection_pb2.Cigar:
        values = {name: getattr(request.cigar, name) for name in PATCHABLE}
        present = {name for name in PATCHABLE if request.cigar.HasField(name)}
        patch = build_patch(values, present, list(request.update_mask.paths))
        return _cigar_pb(await self._service.update_cigar(caller_token(context), request.id, patch))

    async def DeleteCigar(
        self, request: collection_pb2.DeleteCigarRequest, context: ServicerContext
    ) -> empty_pb2.Empty:
        await self._service.delete_cigar(caller_token(context), request.id)
        return empty_pb2.Empty()

    async def ListMyCigars(
        self, request: collection_pb2.ListMyCigarsRequest, context: ServicerContext
    ) -> collection_pb2.ListMyCigarsResponse:
        response = collection_pb2.ListMyCigarsResponse()
        _add_cigars(response.cigars, await self._service.list_my_cigars(caller_token(context)))
        return response

    # grpc.aio lets a server stream be a coroutine that writes its messages (context.write), which the
    # service kit's interceptors wrap like a unary call; the stubs only know generators, hence the ignore.
    async def ExportMyCigars(  # type: ignore[override]
        self, request: collection_pb2.ExportMyCigarsRequest, context: ServicerContext
    ) -> None:
        fmt = _FORMATS.get(request.format) or export_format(metadata_value(context, "accept"))
        first = True
        async for chunk in self._exchange.export_mine(caller_token(context), fmt):
            if first:  # response headers through the gateway: a browser saves the file under this name
                await context.send_initial_metadata(
                    (("content-disposition", f'attachment; filename="cigars.{_EXTENSIONS[fmt]}"'),)
                )
            await context.write(httpbody_pb2.HttpBody(content_type=MEDIA_TYPES[fmt] if first else "", data=chunk))
            first = False

    async def ImportMyCigars(
        self, request_iterator: Any, context: ServicerContext
    ) -> collection_pb2.ImportMyCigarsResponse:
        content_type, body = await _upload(aiter(request_iterator))
        lines = await self._exchange.import_mine(caller_token(context), content_type, body)
        response = collection_pb2.ImportMyCigarsResponse(imported=len(lines))
        add = response.lines.add
        for imported in lines:
            add(line=imported.line, id=imported.id)
        return response

    async def DeleteMyCigars(
        self, request: collection_pb2.DeleteMyCigarsRequest, context: ServicerContext
    ) -> collection_pb2.DeleteMyCigarsResponse:
        deleted = await self._accounts.delete_my_cigars(caller_token(context))
        return collection_pb2.DeleteMyCigarsResponse(deleted=deleted)

    async def RevokeMyTokens(
        self, request: collection_pb2.RevokeMyTokensRequest, context: ServicerContext
    ) -> collection_pb2.RevokeMyTokensResponse:
        await self._accounts.revoke_my_tokens(caller_token(context), request.min_token_version)
        return collection_pb2.RevokeMyTokensResponse()
