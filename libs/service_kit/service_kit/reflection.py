"""Server reflection as grpcurl, buf curl and Postman ask for it: grpc.reflection.v1 and v1alpha from one servicer.

grpcio-reflection serves only v1alpha, and its symbol lookup misses methods: the upb descriptor pool does
not index them, so `grpcurl describe pkg.Service.Method` fails with "Symbol not found" (grpc/grpc#34743).
v1 is v1alpha with another package name (the same messages, field for field), so one servicer answers
both with v1alpha's message classes, and the v1 file is registered in the pool so reflection describes
itself under both names."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from typing import Any

import grpc
from google.protobuf import descriptor_pb2, descriptor_pool
from google.protobuf.descriptor import FileDescriptor
from grpc_reflection.v1alpha import reflection_pb2 as messages

V1ALPHA = "grpc.reflection.v1alpha.ServerReflection"
V1 = "grpc.reflection.v1.ServerReflection"
SERVICE_NAMES = (V1, V1ALPHA)
V1_FILE = "grpc/reflection/v1/reflection.proto"


def register_v1_file(pool: descriptor_pool.DescriptorPool) -> None:
    """Add grpc/reflection/v1/reflection.proto to `pool`, made from the v1alpha file (once per pool)."""
    try:
        pool.FindFileByName(V1_FILE)
        return
    except KeyError:
        pass
    proto = descriptor_pb2.FileDescriptorProto()
    messages.DESCRIPTOR.CopyToProto(proto)
    old, new = f".{messages.DESCRIPTOR.package}.", ".grpc.reflection.v1."
    proto.name, proto.package = V1_FILE, "grpc.reflection.v1"
    proto.ClearField("options")  # v1alpha's java/go package options name v1alpha
    for message in proto.message_type:
        for field in message.field:
            if field.type_name.startswith(old):
                field.type_name = new + field.type_name[len(old) :]
    for method in proto.service[0].method:
        method.input_type = new + method.input_type[len(old) :]
        method.output_type = new + method.output_type[len(old) :]
    pool.Add(proto)


def file_containing(pool: descriptor_pool.DescriptorPool, symbol: str) -> FileDescriptor:
    """The file that defines `symbol`: a message, field, enum, value, extension, service or method."""
    try:
        return pool.FindFileContainingSymbol(symbol)
    except KeyError:
        service_name, _, method = symbol.rpartition(".")
        try:
            service = pool.FindServiceByName(service_name)
        except KeyError:
            raise KeyError(symbol) from None
        if method not in service.methods_by_name:
            raise KeyError(symbol) from None
        return service.file


def with_dependencies(file: FileDescriptor) -> list[bytes]:
    """`file` first, then every file it imports, transitively, each once, serialized."""
    seen: dict[str, FileDescriptor] = {}
    stack = [file]
    while stack:
        current = stack.pop()
        if current.name not in seen:
            seen[current.name] = current
            stack.extend(current.dependencies)
    out = []
    for descriptor in seen.values():
        proto = descriptor_pb2.FileDescriptorProto()
        descriptor.CopyToProto(proto)
        out.append(proto.SerializeToString())
    return out


class ReflectionServicer:
    """One servicer, registered under both service names; the streams are answered message by message."""

    def __init__(self, service_names: Iterable[str], pool: descriptor_pool.DescriptorPool | None = None) -> None:
        self.pool = pool or descriptor_pool.Default()
        register_v1_file(self.pool)
        self.services = sorted({*service_names, *SERVICE_NAMES})

    async def ServerReflectionInfo(  # noqa: N802 (the gRPC method's name)
        self, requests: AsyncIterator[messages.ServerReflectionRequest], context: Any
    ) -> AsyncIterator[messages.ServerReflectionResponse]:
        async for request in requests:
            yield self.answer(request)

    def answer(self, request: messages.ServerReflectionRequest) -> messages.ServerReflectionResponse:
        response = messages.ServerReflectionResponse(valid_host=request.host, original_request=request)
        kind = request.WhichOneof("message_request")
        try:
            if kind == "list_services":
                listed = (messages.ServiceResponse(name=name) for name in self.services)
                response.list_services_response.service.extend(listed)
            elif kind == "file_by_filename":
                files = with_dependencies(self.pool.FindFileByName(request.file_by_filename))
                response.file_descriptor_response.file_descriptor_proto.extend(files)
            elif kind == "file_containing_symbol":
                files = with_dependencies(file_containing(self.pool, request.file_containing_symbol))
                response.file_descriptor_response.file_descriptor_proto.extend(files)
            elif kind == "file_containing_extension":
                wanted = request.file_containing_extension
                extendee = self.pool.FindMessageTypeByName(wanted.containing_type)
                extension = self.pool.FindExtensionByNumber(extendee, wanted.extension_number)
                files = with_dependencies(self.pool.FindFileContainingSymbol(extension.full_name))
                response.file_descriptor_response.file_descriptor_proto.extend(files)
            elif kind == "all_extension_numbers_of_type":
                extendee = self.pool.FindMessageTypeByName(request.all_extension_numbers_of_type)
                numbers = sorted(extension.number for extension in self.pool.FindAllExtensions(extendee))
                response.all_extension_numbers_response.base_type_name = extendee.full_name
                response.all_extension_numbers_response.extension_number.extend(numbers)
            else:
                return error(request, grpc.StatusCode.INVALID_ARGUMENT, "no request in the message")
        except KeyError:
            return error(request, grpc.StatusCode.NOT_FOUND, f"not found: {_asked(request)}")
        return response


def error(
    request: messages.ServerReflectionRequest, code: grpc.StatusCode, message: str
) -> messages.ServerReflectionResponse:
    return messages.ServerReflectionResponse(
        valid_host=request.host,
        original_request=request,
        error_response=messages.ErrorResponse(error_code=code.value[0], error_message=message),
    )


def _asked(request: messages.ServerReflectionRequest) -> str:
    kind = request.WhichOneof("message_request")
    if kind == "file_containing_extension":
        ext = request.file_containing_extension
        return f"extension {ext.extension_number} of {ext.containing_type}"
    return str(getattr(request, kind or "host"))


def enable_reflection(service_names: Iterable[str], server: grpc.aio.Server) -> None:
    """Serve reflection v1 and v1alpha on `server`, listing `service_names` and the reflection services."""
    servicer = ReflectionServicer(service_names)
    handler = grpc.stream_stream_rpc_method_handler(
        servicer.ServerReflectionInfo,
        request_deserializer=messages.ServerReflectionRequest.FromString,
        response_serializer=messages.ServerReflectionResponse.SerializeToString,
    )
    for name in SERVICE_NAMES:
        server.add_generic_rpc_handlers(
            (grpc.method_handlers_generic_handler(name, {"ServerReflectionInfo": handler}),)
        )
