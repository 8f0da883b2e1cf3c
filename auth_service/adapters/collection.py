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


class GrpcCollectionAccounts:
    """Tells collection_service what happened to an account: deleted (its cigars go), password changed (its
    older tokens are refused). The user may have no valid access token, so this mints a token for the
    account audience only, valid for a minute, which no other RPC accepts (docs/api.md, profiles)."""

    def __init__(self, channel: grpc.aio.Channel, timeout_seconds: float, issuer: JwtIssuer, audience: str) -> None:
        self._stub = collection_pb2_grpc.CollectionServiceStub(channel)
        self._timeout = timeout_seconds
        self._issuer = issuer
        self._audience = audience

    def _as(self, user_id: int) -> tuple[tuple[str, str]]:
        token = self._issuer.issue_for(user_id, self._audience, timedelta(minutes=1)).access_token
        return (("authorization", f"Bearer {token}"),)

    async def delete_cigars(self, user_id: int) -> int:
        try:
            request = collection_pb2.DeleteMyCigarsRequest()
            response = await self._stub.DeleteMyCigars(request, metadata=self._as(user_id), timeout=self._timeout)
        except grpc.aio.AioRpcError as exc:
            raise _refused(exc) from exc
        return response.deleted

    async def revoke_tokens(self, user_id: int, min_version: int) -> None:
        try:
            request = collection_pb2.RevokeMyTokensRequest(min_token_version=min_version)
            await self._stub.RevokeMyTokens(request, metadata=self._as(user_id), timeout=self._timeout)
        except grpc.aio.AioRpcError as exc:
            raise _refused(exc) from exc


def _refused(exc: grpc.aio.AioRpcError) -> Exception:
    if exc.code() == grpc.StatusCode.UNAUTHENTICATED:
        # e.g. collection_service has not fetched a freshly rotated key yet: retried later
        return InvalidToken(f"collection_service refused the account token: {exc.details()}")
    return DependencyUnavailable("the cigar collection")
