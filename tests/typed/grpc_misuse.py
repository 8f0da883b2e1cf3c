"""Misuses of the generated gRPC stubs that mypy must report: tests/test_typed_stubs.py expects exactly the
error codes in the `# mypy:` comments, on those lines (this file is never run)."""

from __future__ import annotations

import grpc
from cigar.auth.v1 import auth_pb2, auth_pb2_grpc
from cigar.collection.v1 import collection_pb2, collection_pb2_grpc


async def wrong_calls(address: str) -> None:
    async with grpc.aio.insecure_channel(address) as channel:
        auth = auth_pb2_grpc.AuthServiceStub(channel)
        reply = await auth.Token(auth_pb2.GetMeRequest())  # mypy: arg-type
        print(reply.id_token)  # mypy: attr-defined
        await auth.NoSuchRpc(auth_pb2.GetMeRequest())  # mypy: attr-defined


class Collection(collection_pb2_grpc.CollectionServiceServicer):
    async def GetCigar(  # mypy: override
        self, request: collection_pb2.GetCigarRequest, context: grpc.aio.ServicerContext[object, object]
    ) -> auth_pb2.User:
        return auth_pb2.User()


def wrong_server() -> None:
    collection_pb2_grpc.add_CollectionServiceServicer_to_server(object(), grpc.aio.server())  # mypy: arg-type
