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
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.reliability import strategies as s
from tests.reliability.conftest import Reliability, new_user
from tests.reliability.traffic import FIGURES

EXAMPLES = int(os.environ.get("CIGAR_FUZZ_GRPC_EXAMPLES", "100"))  # per method; 7 methods
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

int32 = st.integers(min_value=-(2**31), max_value=2**31 - 1)
text = st.one_of(s.texts, st.text(max_size=20))
METHODS = {
    "CreateUser": ("auth", st.builds(auth_pb2.CreateUserRequest, username=text, email=text, password=text)),
    "Token": (
        "auth",
        st.builds(
            auth_pb2.TokenRequest,
            grant_type=st.sampled_from(["", "password"]) | text,
            username=text,
            password=text,
            scope=text,
            client_id=text,
            client_secret=text,
        ),  # fmt: skip
    ),
    "GetMe": ("auth", st.just(auth_pb2.GetMeRequest())),
    "GetJwks": ("auth", st.just(auth_pb2.GetJwksRequest())),
    "ListCigars": (
        "collection",
        st.builds(collection_pb2.ListCigarsRequest, skip=int32, limit=int32)
        | st.builds(collection_pb2.ListCigarsRequest, skip=int32),
    ),
    "CreateCigar": (
        "collection",
        st.builds(
            collection_pb2.CreateCigarRequest,
            name=text,
            brand=text,
            origin=text,
            flavor_notes=text,
            rating=st.one_of(int32, st.integers(1, 5)),
        ),  # fmt: skip
    ),
    "ListMyCigars": ("collection", st.just(collection_pb2.ListMyCigarsRequest())),
}


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
    service, messages = METHODS[method]
    call = getattr(stubs[service], method)

    @FUZZ
    @given(request=messages, authorization=s.authorizations(token).filter(printable))
    def fuzz(request: object, authorization: str | None) -> None:
        metadata = (("authorization", authorization),) if authorization is not None else ()
        CASES[method] += 1
        try:
            call(request, metadata=metadata, timeout=10)
        except grpc.RpcError as exc:
            assert exc.code() in CLIENT_ERRORS, f"{method}({request!r}) -> {exc.code()} {exc.details()}"
            assert exc.details(), f"{method}({request!r}) -> {exc.code()} without a message"

    fuzz()
    assert CASES[method] >= EXAMPLES * 0.9
    FIGURES["gRPC fuzz: calls sent (all methods) / INTERNAL, UNKNOWN or UNAVAILABLE"] = f"{CASES.total()} / 0"
