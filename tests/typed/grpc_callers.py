"""Typed callers of the generated gRPC stubs: tests/test_typed_stubs.py runs mypy --strict on this file (it is
never run). Every assert_type holds only if protos/python's *_pb2_grpc.pyi type the calls; without them the
stubs are Any and mypy reports the assertions."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import assert_type

import grpc
from cigar.auth.v1 import auth_pb2, auth_pb2_grpc
from cigar.collection.v1 import collection_pb2, collection_pb2_grpc
from google.api import httpbody_pb2
from google.protobuf import empty_pb2
from google.rpc import status_pb2
from grpc_status import rpc_status

Context = grpc.aio.ServicerContext


async def aio_stubs(address: str) -> None:
    """As auth_service calls collection_service: a stub on a grpc.aio channel is typed as its async variant."""
    async with grpc.aio.insecure_channel(address) as channel:
        auth = auth_pb2_grpc.AuthServiceStub(channel)
        collection = collection_pb2_grpc.CollectionServiceStub(channel)
        token = await auth.Token(auth_pb2.TokenRequest(username="u", password="p"), timeout=5)
        assert_type(token, auth_pb2.TokenResponse)
        metadata = (("authorization", f"Bearer {token.access_token}"),)
        page = await collection.ListCigars(collection_pb2.ListCigarsRequest(limit=3), metadata=metadata)
        assert_type(page.cigars[0], collection_pb2.Cigar)
        assert_type(await collection.DeleteCigar(collection_pb2.DeleteCigarRequest(id=1)), empty_pb2.Empty)
        try:
            await auth.GetMe(auth_pb2.GetMeRequest(), metadata=metadata)
        except grpc.aio.AioRpcError as exc:
            assert_type(exc.code(), grpc.StatusCode)
        async for piece in collection.ExportMyCigars(collection_pb2.ExportMyCigarsRequest(), metadata=metadata):
            assert_type(piece, httpbody_pb2.HttpBody)
        upload = iter([collection_pb2.ImportMyCigarsRequest(body=httpbody_pb2.HttpBody(content_type="text/csv"))])
        assert_type(await collection.ImportMyCigars(upload), collection_pb2.ImportMyCigarsResponse)


def sync_stubs(address: str) -> None:
    """As the README's example calls the services: a stub on a plain grpc channel."""
    with grpc.insecure_channel(address) as channel:
        auth = auth_pb2_grpc.AuthServiceStub(channel)
        assert_type(auth.GetJwks(auth_pb2.GetJwksRequest(), timeout=5), auth_pb2.GetJwksResponse)
        try:
            auth.GetMe(auth_pb2.GetMeRequest())
        except grpc.RpcError as exc:
            if isinstance(exc, grpc.Call) and (status := rpc_status.from_call(exc)) is not None:
                assert_type(status, status_pb2.Status)


class Collection(collection_pb2_grpc.CollectionServiceServicer):
    """An async servicer, as collection_service's: every RPC must be implemented (the base class is abstract)."""

    async def ListCigars(
        self, request: collection_pb2.ListCigarsRequest, context: Context[collection_pb2.ListCigarsRequest, object]
    ) -> collection_pb2.ListCigarsResponse:
        return collection_pb2.ListCigarsResponse()

    async def CreateCigar(
        self, request: collection_pb2.CreateCigarRequest, context: Context[collection_pb2.CreateCigarRequest, object]
    ) -> collection_pb2.Cigar:
        return collection_pb2.Cigar(name=request.name)

    async def GetCigar(
        self, request: collection_pb2.GetCigarRequest, context: Context[collection_pb2.GetCigarRequest, object]
    ) -> collection_pb2.Cigar:
        if request.id < 1:
            await context.abort(grpc.StatusCode.NOT_FOUND, "no such cigar")
        return collection_pb2.Cigar(id=request.id)

    async def UpdateCigar(
        self, request: collection_pb2.UpdateCigarRequest, context: Context[collection_pb2.UpdateCigarRequest, object]
    ) -> collection_pb2.Cigar:
        return collection_pb2.Cigar(id=request.id)

    async def DeleteCigar(
        self, request: collection_pb2.DeleteCigarRequest, context: Context[collection_pb2.DeleteCigarRequest, object]
    ) -> empty_pb2.Empty:
        return empty_pb2.Empty()

    async def ListMyCigars(
        self, request: collection_pb2.ListMyCigarsRequest, context: Context[collection_pb2.ListMyCigarsRequest, object]
    ) -> collection_pb2.ListMyCigarsResponse:
        return collection_pb2.ListMyCigarsResponse()

    async def ExportMyCigars(
        self,
        request: collection_pb2.ExportMyCigarsRequest,
        context: Context[collection_pb2.ExportMyCigarsRequest, object],
    ) -> AsyncIterator[httpbody_pb2.HttpBody]:
        yield httpbody_pb2.HttpBody(content_type="text/csv", data=b"id,name\r\n")

    async def ImportMyCigars(
        self,
        request_iterator: AsyncIterator[collection_pb2.ImportMyCigarsRequest]
        | Iterator[collection_pb2.ImportMyCigarsRequest],
        context: Context[collection_pb2.ImportMyCigarsRequest, object],
    ) -> collection_pb2.ImportMyCigarsResponse:
        assert isinstance(request_iterator, AsyncIterator)  # grpc.aio hands an async iterator
        pieces = [piece.body.data async for piece in request_iterator]
        return collection_pb2.ImportMyCigarsResponse(imported=len(pieces))

    async def DeleteMyCigars(
        self,
        request: collection_pb2.DeleteMyCigarsRequest,
        context: Context[collection_pb2.DeleteMyCigarsRequest, object],
    ) -> collection_pb2.DeleteMyCigarsResponse:
        return collection_pb2.DeleteMyCigarsResponse(deleted=0)

    async def RevokeMyTokens(
        self,
        request: collection_pb2.RevokeMyTokensRequest,
        context: Context[collection_pb2.RevokeMyTokensRequest, object],
    ) -> collection_pb2.RevokeMyTokensResponse:
        return collection_pb2.RevokeMyTokensResponse()


class PartialAuth(auth_pb2_grpc.AuthServiceServicer):
    """A servicer that implements one RPC (the others answer UNIMPLEMENTED at run time) is abstract to mypy."""

    async def GetJwks(
        self, request: auth_pb2.GetJwksRequest, context: Context[auth_pb2.GetJwksRequest, object]
    ) -> auth_pb2.GetJwksResponse:
        return auth_pb2.GetJwksResponse()


async def serve() -> None:
    server = grpc.aio.server()
    collection_pb2_grpc.add_CollectionServiceServicer_to_server(Collection(), server)
    auth_pb2_grpc.add_AuthServiceServicer_to_server(PartialAuth(), server)  # type: ignore[abstract]
    await server.start()
