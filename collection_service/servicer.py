"""CollectionService over gRPC: protobuf in, service call, protobuf out; errors go to errors.py."""

from __future__ import annotations

from typing import Any

import grpc
from cigar.collection.v1 import collection_pb2, collection_pb2_grpc
from google.protobuf import empty_pb2

from .accounts import AccountDeletion
from .domain import PATCHABLE, Cigar, CigarFields, CigarFilter, PageRequest
from .services import CollectionService
from .validation import build_patch


def _authorization(context: grpc.aio.ServicerContext) -> str | None:
    for key, value in context.invocation_metadata() or ():
        if key == "authorization":
            return value if isinstance(value, str) else value.decode()
    return None


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


class CollectionServicer(collection_pb2_grpc.CollectionServiceServicer):
    def __init__(self, service: CollectionService, accounts: AccountDeletion) -> None:
        self._service = service
        self._accounts = accounts

    async def ListCigars(
        self, request: collection_pb2.ListCigarsRequest, context: grpc.aio.ServicerContext
    ) -> collection_pb2.ListCigarsResponse:
        f = CigarFilter(request.owner_id, request.brand, request.origin, request.min_rating, request.q)
        limit = request.limit if request.HasField("limit") else None
        page = await self._service.list_cigars(
            f, PageRequest(request.skip, limit, request.page_size, request.page_token)
        )
        response = collection_pb2.ListCigarsResponse(next_page_token=page.next_page_token)
        _add_cigars(response.cigars, page.cigars)
        return response

    async def GetCigar(
        self, request: collection_pb2.GetCigarRequest, context: grpc.aio.ServicerContext
    ) -> collection_pb2.Cigar:
        return _cigar_pb(await self._service.get_cigar(request.id))

    async def CreateCigar(
        self, request: collection_pb2.CreateCigarRequest, context: grpc.aio.ServicerContext
    ) -> collection_pb2.Cigar:
        fields = CigarFields(
            name=request.name,
            brand=request.brand,
            origin=request.origin,
            flavor_notes=request.flavor_notes,
            rating=request.rating,
        )
        return _cigar_pb(await self._service.create_cigar(_authorization(context), fields))

    async def UpdateCigar(
        self, request: collection_pb2.UpdateCigarRequest, context: grpc.aio.ServicerContext
    ) -> collection_pb2.Cigar:
        values = {name: getattr(request.cigar, name) for name in PATCHABLE}
        present = {name for name in PATCHABLE if request.cigar.HasField(name)}
        patch = build_patch(values, present, list(request.update_mask.paths))
        return _cigar_pb(await self._service.update_cigar(_authorization(context), request.id, patch))

    async def DeleteCigar(
        self, request: collection_pb2.DeleteCigarRequest, context: grpc.aio.ServicerContext
    ) -> empty_pb2.Empty:
        await self._service.delete_cigar(_authorization(context), request.id)
        return empty_pb2.Empty()

    async def ListMyCigars(
        self, request: collection_pb2.ListMyCigarsRequest, context: grpc.aio.ServicerContext
    ) -> collection_pb2.ListMyCigarsResponse:
        response = collection_pb2.ListMyCigarsResponse()
        _add_cigars(response.cigars, await self._service.list_my_cigars(_authorization(context)))
        return response

    # --- account deletion (issue 3) ---
    async def DeleteMyCigars(
        self, request: collection_pb2.DeleteMyCigarsRequest, context: grpc.aio.ServicerContext
    ) -> collection_pb2.DeleteMyCigarsResponse:
        deleted = await self._accounts.delete_my_cigars(_authorization(context))
        return collection_pb2.DeleteMyCigarsResponse(deleted=deleted)
