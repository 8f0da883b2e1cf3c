"""Server reflection from the kit, v1 and v1alpha, on a real in-process gRPC server: what grpcurl and buf curl ask."""

from __future__ import annotations

from collections.abc import AsyncIterator

import grpc
import pytest
from google.protobuf import descriptor_pb2
from google.rpc import error_details_pb2
from grpc_health.v1 import health, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2 as messages

from service_kit.reflection import SERVICE_NAMES, V1, V1ALPHA, enable_reflection

HEALTH = "grpc.health.v1.Health"


@pytest.fixture
async def channel() -> AsyncIterator[grpc.aio.Channel]:
    server = grpc.aio.server()
    health_pb2_grpc.add_HealthServicer_to_server(health.aio.HealthServicer(), server)
    enable_reflection([HEALTH], server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            yield channel
    finally:
        await server.stop(None)


async def ask(
    channel: grpc.aio.Channel, service: str, *requests: messages.ServerReflectionRequest
) -> list[messages.ServerReflectionResponse]:
    """One reflection stream with `requests` on it, as a client of `service` (v1 or v1alpha) sees it."""
    call = channel.stream_stream(
        f"/{service}/ServerReflectionInfo",
        request_serializer=messages.ServerReflectionRequest.SerializeToString,
        response_deserializer=messages.ServerReflectionResponse.FromString,
    )(iter(requests), timeout=5)
    return [response async for response in call]


def file_names(response: messages.ServerReflectionResponse) -> list[str]:
    return [
        descriptor_pb2.FileDescriptorProto.FromString(raw).name
        for raw in response.file_descriptor_response.file_descriptor_proto
    ]


@pytest.mark.parametrize("service", SERVICE_NAMES)
async def test_both_versions_list_the_services_and_both_reflection_services(
    channel: grpc.aio.Channel, service: str
) -> None:
    [reply] = await ask(channel, service, messages.ServerReflectionRequest(list_services="*"))
    assert [s.name for s in reply.list_services_response.service] == sorted([HEALTH, V1, V1ALPHA])


@pytest.mark.parametrize("service", SERVICE_NAMES)
async def test_a_method_resolves_to_the_file_of_its_service(channel: grpc.aio.Channel, service: str) -> None:
    # grpcio-reflection answers NOT_FOUND here (grpc/grpc#34743): the pool does not index methods
    [reply] = await ask(channel, service, messages.ServerReflectionRequest(file_containing_symbol=f"{HEALTH}.Check"))
    assert reply.WhichOneof("message_response") == "file_descriptor_response"
    assert file_names(reply)[0] == "grpc_health/v1/health.proto"


async def test_a_file_comes_with_every_file_it_imports(channel: grpc.aio.Channel) -> None:
    symbol = error_details_pb2.BadRequest.DESCRIPTOR.full_name
    [reply] = await ask(channel, V1, messages.ServerReflectionRequest(file_containing_symbol=symbol))
    names = file_names(reply)
    assert names[0] == "google/rpc/error_details.proto"
    assert "google/protobuf/duration.proto" in names and len(names) == len(set(names))


async def test_the_v1_service_describes_itself_in_package_grpc_reflection_v1(channel: grpc.aio.Channel) -> None:
    [reply] = await ask(channel, V1, messages.ServerReflectionRequest(file_containing_symbol=V1))
    file = descriptor_pb2.FileDescriptorProto.FromString(reply.file_descriptor_response.file_descriptor_proto[0])
    assert (file.name, file.package) == ("grpc/reflection/v1/reflection.proto", "grpc.reflection.v1")
    [method] = file.service[0].method
    assert (method.input_type, method.output_type) == (
        ".grpc.reflection.v1.ServerReflectionRequest",
        ".grpc.reflection.v1.ServerReflectionResponse",
    )
    response = next(m for m in file.message_type if m.name == "ServerReflectionResponse")
    assert {f.type_name for f in response.field if f.type_name} <= {
        f".grpc.reflection.v1.{name}"
        for name in (
            "ServerReflectionRequest", "FileDescriptorResponse", "ExtensionNumberResponse",
            "ListServiceResponse", "ErrorResponse",
        )
    }  # fmt: skip


@pytest.mark.parametrize(
    "request_",
    [
        messages.ServerReflectionRequest(file_containing_symbol=f"{HEALTH}.Nope"),
        messages.ServerReflectionRequest(file_containing_symbol="no.such.Thing"),
        messages.ServerReflectionRequest(file_by_filename="no/such.proto"),
        messages.ServerReflectionRequest(all_extension_numbers_of_type="no.such.Message"),
    ],
)
async def test_an_unknown_name_is_not_found_in_the_stream_which_goes_on(
    channel: grpc.aio.Channel, request_: messages.ServerReflectionRequest
) -> None:
    missing, listed = await ask(channel, V1, request_, messages.ServerReflectionRequest(list_services="*"))
    assert missing.error_response.error_code == grpc.StatusCode.NOT_FOUND.value[0]
    assert missing.original_request == request_
    assert listed.WhichOneof("message_response") == "list_services_response"


async def test_extensions_of_a_type_are_listed_and_found(channel: grpc.aio.Channel) -> None:
    import google.api.annotations_pb2  # noqa: F401 (registers the google.api.http extension in the pool)

    numbers, found = await ask(
        channel,
        V1,
        messages.ServerReflectionRequest(all_extension_numbers_of_type="google.protobuf.MethodOptions"),
        messages.ServerReflectionRequest(
            file_containing_extension=messages.ExtensionRequest(
                containing_type="google.protobuf.MethodOptions", extension_number=72295728
            )
        ),
    )
    assert 72295728 in numbers.all_extension_numbers_response.extension_number  # google.api.http
    assert file_names(found)[0] == "google/api/annotations.proto"
