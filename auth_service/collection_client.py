"""CigarDirectory over gRPC: asks collection_service for the caller's cigars with their own token."""

from __future__ import annotations

import grpc
from cigar.collection.v1 import collection_pb2, collection_pb2_grpc

from .domain import Cigar, DependencyUnavailable, InvalidToken


class GrpcCigarDirectory:
    def __init__(self, channel: grpc.aio.Channel, timeout_seconds: float) -> None:
        self._stub = collection_pb2_grpc.CollectionServiceStub(channel)
        self._timeout = timeout_seconds

    async def list_mine(self, token: str) -> list[Cigar]:
        try:
            response = await self._stub.ListMyCigars(
                collection_pb2.ListMyCigarsRequest(),
                metadata=(("authorization", f"Bearer {token}"),),
                timeout=self._timeout,
            )
        except grpc.aio.AioRpcError as exc:
            if exc.code() == grpc.StatusCode.UNAUTHENTICATED:
                raise InvalidToken() from exc
            raise DependencyUnavailable("the cigar collection") from exc
        return [
            Cigar(
                id=c.id,
                name=c.name,
                brand=c.brand,
                origin=c.origin,
                flavor_notes=c.flavor_notes,
                rating=c.rating,
                owner_id=c.owner_id,
            )
            for c in response.cigars
        ]
