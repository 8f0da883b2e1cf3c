"""collection_service over gRPC: the caller's cigars (with their own token), and account deletion."""

from __future__ import annotations

from datetime import timedelta

import grpc
from cigar.collection.v1 import collection_pb2, collection_pb2_grpc

from ..domain import Cigar, DependencyUnavailable, InvalidToken
from .tokens import JwtIssuer


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
        return [Cigar(c.id, c.name, c.brand, c.origin, c.flavor_notes, c.rating, c.owner_id) for c in response.cigars]


class GrpcAccountCleaner:
    """Deletes a deleted user's cigars in collection_service. The user has no valid access token any more,
    so this mints a token for the deletion audience only, valid for a minute (docs/api.md, profiles)."""

    def __init__(self, channel: grpc.aio.Channel, timeout_seconds: float, issuer: JwtIssuer, audience: str) -> None:
        self._stub = collection_pb2_grpc.CollectionServiceStub(channel)
        self._timeout = timeout_seconds
        self._issuer = issuer
        self._audience = audience

    async def delete_cigars(self, user_id: int) -> int:
        token = self._issuer.issue_for(user_id, self._audience, timedelta(minutes=1)).access_token
        try:
            response = await self._stub.DeleteMyCigars(
                collection_pb2.DeleteMyCigarsRequest(),
                metadata=(("authorization", f"Bearer {token}"),),
                timeout=self._timeout,
            )
        except grpc.aio.AioRpcError as exc:
            if exc.code() == grpc.StatusCode.UNAUTHENTICATED:
                # e.g. collection_service has not fetched a freshly rotated key yet: retried later
                raise InvalidToken(f"collection_service refused the deletion token: {exc.details()}") from exc
            raise DependencyUnavailable("the cigar collection") from exc
        return response.deleted
