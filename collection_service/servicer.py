"""CollectionService over gRPC: protobuf in, service call, protobuf out; errors go to errors.py."""

from __future__ import annotations

import grpc
from cigar.collection.v1 import collection_pb2, collection_pb2_grpc

from .domain import Cigar, CigarFields
from .services import CollectionService


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


class CollectionServicer(collection_pb2_grpc.CollectionServiceServicer):
    def __init__(self, service: CollectionService) -> None:
        self._service = service

    async def ListCigars(
        self, request: collection_pb2.ListCigarsRequest, context: grpc.aio.ServicerContext
    ) -> collection_pb2.ListCigarsResponse:
        limit = request.limit if request.HasField("limit") else None
        cigars = await self._service.list_cigars(request.skip, limit)
        return collection_pb2.ListCigarsResponse(cigars=[_cigar_pb(c) for c in cigars])

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

    async def ListMyCigars(
        self, request: collection_pb2.ListMyCigarsRequest, context: grpc.aio.ServicerContext
    ) -> collection_pb2.ListMyCigarsResponse:
        cigars = await self._service.list_my_cigars(_authorization(context))
        return collection_pb2.ListMyCigarsResponse(cigars=[_cigar_pb(c) for c in cigars])
