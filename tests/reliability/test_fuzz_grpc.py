"""Promise 4b, arbitrary input over gRPC: every method of both services, called directly with random messages
of valid types and random bearer metadata, answers OK or a client error with a message; never INTERNAL,
UNKNOWN or UNAVAILABLE while everything is up."""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterator

import grpc
import httpx
import pytest
from cigar.auth.v1 import auth_pb2, auth_pb2_grpc
from cigar.collection.v1 import collection_pb2, collection_pb2_grpc
from google.protobuf import field_mask_pb2, message_factory
from google.protobuf.descriptor import Descriptor, FieldDescriptor
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.reliability import strategies as s
from tests.reliability.conftest import Reliability, new_user
from tests.reliability.traffic import FIGURES

EXAMPLES = int(os.environ.get("CIGAR_FUZZ_GRPC_EXAMPLES", "100"))  # per method
FUZZ = settings(
    max_examples=EXAMPLES, deadline=None, database=None, suppress_health_check=list(HealthCheck), print_blob=True
)
CLIENT_ERRORS = {
    grpc.StatusCode.INVALID_ARGUMENT,
    grpc.StatusCode.UNAUTHENTICATED,
    grpc.StatusCode.ALREADY_EXISTS,
    grpc.StatusCode.NOT_FOUND,
    grpc.StatusCode.PERMISSION_DENIED,
    grpc.StatusCode.FAILED_PRECONDITION,
    grpc.StatusCode.RESOURCE_EXHAUSTED,  # throttling
}
CASES: Counter[str] = Counter()

INT32 = st.one_of(st.integers(min_value=-(2**31), max_value=2**31 - 1), st.integers(min_value=-1, max_value=60))
TEXT = st.one_of(s.texts, st.text(max_size=20))
SCALARS = {
    FieldDescriptor.TYPE_STRING: TEXT,
    FieldDescriptor.TYPE_INT32: INT32,
    FieldDescriptor.TYPE_SINT32: INT32,
    FieldDescriptor.TYPE_INT64: st.integers(min_value=-(2**63), max_value=2**63 - 1),
    FieldDescriptor.TYPE_UINT32: st.integers(min_value=0, max_value=2**32 - 1),
    FieldDescriptor.TYPE_BOOL: st.booleans(),
    FieldDescriptor.TYPE_BYTES: st.one_of(st.binary(max_size=64), TEXT.map(str.encode)),
}


def messages(descriptor: Descriptor, depth: int = 0) -> st.SearchStrategy:
    """Any message of this type: every field may be set (or not) to a random value of its declared type."""
    if descriptor.full_name == "google.protobuf.FieldMask":
        names = st.sampled_from(["name", "brand", "origin", "flavor_notes", "rating", "id", "owner_id"]) | TEXT
        return st.lists(names, max_size=4).map(lambda paths: field_mask_pb2.FieldMask(paths=paths))
    fields = {}
    for f in descriptor.fields:
        if f.type == FieldDescriptor.TYPE_MESSAGE:
            if depth >= 2:
                continue
            value = messages(f.message_type, depth + 1)
        elif f.type == FieldDescriptor.TYPE_ENUM:
            value = st.sampled_from([v.number for v in f.enum_type.values])
        else:
            value = SCALARS[f.type]
        fields[f.name] = st.lists(value, max_size=3) if f.is_repeated else value
    cls = message_factory.GetMessageClass(descriptor)
    return st.fixed_dictionaries({}, optional=fields).map(lambda kwargs: cls(**kwargs))


# Every method of both services, found in the descriptors: a method added later is fuzzed too.
SERVICES = {
    "auth": auth_pb2.DESCRIPTOR.services_by_name["AuthService"],
    "collection": collection_pb2.DESCRIPTOR.services_by_name["CollectionService"],
}
METHODS = {m.name: (service, m) for service, d in SERVICES.items() for m in d.methods}


@pytest.fixture(scope="module")
def stubs(reliability: Reliability) -> Iterator[dict[str, object]]:
    with (
        grpc.insecure_channel(reliability.addr("auth_service")) as auth,
        grpc.insecure_channel(reliability.addr("collection_service")) as collection,
    ):
        yield {
            "auth": auth_pb2_grpc.AuthServiceStub(auth),
            "collection": collection_pb2_grpc.CollectionServiceStub(collection),
        }


@pytest.fixture(scope="module")
def token(reliability: Reliability) -> str:
    with httpx.Client(base_url=reliability.url, timeout=10) as client:
        return new_user(client)[1]


def printable(value: str | None) -> bool:
    # gRPC metadata values are printable ASCII; the client library refuses anything else before sending.
    return value is None or all(0x20 <= ord(c) < 0x7F for c in value)


@pytest.mark.parametrize("method", list(METHODS))
def test_no_well_typed_grpc_message_gets_an_internal_error(stubs: dict, token: str, method: str) -> None:
    service, descriptor = METHODS[method]
    call = getattr(stubs[service], method)
    # a client stream sends a few random messages; a server stream is read to its end
    requests = st.lists(messages(descriptor.input_type), max_size=3) if descriptor.client_streaming else (
        messages(descriptor.input_type))  # fmt: skip

    @FUZZ
    @given(request=requests, authorization=s.authorizations(token).filter(printable))
    def fuzz(request: object, authorization: str | None) -> None:
        metadata = (("authorization", authorization),) if authorization is not None else ()
        CASES[method] += 1
        try:
            answer = call(iter(request) if descriptor.client_streaming else request, metadata=metadata, timeout=10)
            if descriptor.server_streaming:
                list(answer)
        except grpc.RpcError as exc:
            assert exc.code() in CLIENT_ERRORS, f"{method}({request!r}) -> {exc.code()} {exc.details()}"
            assert exc.details(), f"{method}({request!r}) -> {exc.code()} without a message"

    fuzz()
    assert CASES[method] >= EXAMPLES * 0.9
    FIGURES["gRPC fuzz: calls sent (all methods) / INTERNAL, UNKNOWN or UNAVAILABLE"] = f"{CASES.total()} / 0"
