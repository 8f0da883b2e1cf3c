"""With tracing on, one call is one trace: the caller's traceparent, each service's SERVER span, the CLIENT span of
the call between them, and a span per database statement, on the statement driver and on SQLAlchemy."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import grpc
import pytest
from cigar.auth.v1 import auth_pb2, auth_pb2_grpc
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from auth_service.server import RunningServer as RunningAuth
from auth_service.server import start as start_auth
from auth_service.settings import Settings as AuthSettings
from collection_service.server import RunningServer as RunningCollection
from collection_service.server import start as start_collection
from collection_service.settings import Settings as CollectionSettings
from service_kit import tracing
from service_kit.tracing import Tracing
from tests.conftest import BACKENDS, Databases, database_url, free_port, migrate
from tests.integration.conftest import bearer

PARENT_ID = uuid.uuid4().hex[:16]


def traceparent() -> tuple[str, int]:
    """A sampled W3C traceparent from a caller of our own, and its trace id."""
    trace_id = uuid.uuid4().hex
    return f"00-{trace_id}-{PARENT_ID}-01", int(trace_id, 16)


@dataclass
class Traced:
    auth: auth_pb2_grpc.AuthServiceStub
    running: tuple[RunningAuth, RunningCollection]
    spans: InMemorySpanExporter
    backend: str

    def finished(self) -> list[ReadableSpan]:
        for server in self.running:
            assert isinstance(server.telemetry, Tracing)
            server.telemetry.provider.force_flush()
        return list(self.spans.get_finished_spans())

    async def trace(self, trace_id: int, count: int) -> list[ReadableSpan]:
        """The spans of one trace once `count` of them have ended. A call that fails with an abort sends its status
        to the caller before the server's span ends (grpc.aio writes the status inside abort()), so the caller can
        be back before the span is: wait for it, a bounded while."""
        for _ in range(100):
            spans = [s for s in self.finished() if s.context.trace_id == trace_id]
            if len(spans) >= count:
                return spans
            await asyncio.sleep(0.02)
        return spans


@pytest.fixture(scope="module", params=BACKENDS)
async def traced(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    pg_databases: Databases,
    key_file: Path,
) -> AsyncIterator[Traced]:
    backend = request.param
    tmp = tmp_path_factory.mktemp(f"traces-{backend}")
    auth_url = await database_url(backend, "auth", tmp, pg_databases)
    collection_url = await database_url(backend, "collection", tmp, pg_databases)
    await migrate("auth", auth_url)
    await migrate("collection", collection_url)
    auth_port, collection_port = free_port(), free_port()
    # OTEL_TRACES_EXPORTER=console switches tracing on; both services export to `memory` instead of the console.
    on, memory = {"OTEL_TRACES_EXPORTER": "console"}, InMemorySpanExporter()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(tracing, "exporters", lambda settings: iter([memory]))
        auth = await start_auth(AuthSettings(
            port=auth_port, database_url=auth_url, private_key_file=key_file,
            collection_service_addr=f"127.0.0.1:{collection_port}", **on,
        ))  # fmt: skip
        collection = await start_collection(CollectionSettings(
            port=collection_port, database_url=collection_url, auth_service_addr=f"127.0.0.1:{auth_port}", **on,
        ))  # fmt: skip
    channel = grpc.aio.insecure_channel(f"127.0.0.1:{auth.port}")
    try:
        yield Traced(auth_pb2_grpc.AuthServiceStub(channel), (auth, collection), memory, backend)
    finally:
        await channel.close()
        await collection.stop(grace=1)
        await auth.stop(grace=1)


def service_of(span: ReadableSpan) -> str:
    return str(span.resource.attributes["service.name"])


async def test_one_get_me_is_one_trace_across_both_services_and_both_databases(traced: Traced) -> None:
    name = f"tr_{uuid.uuid4().hex[:8]}"
    await traced.auth.CreateUser(auth_pb2.CreateUserRequest(username=name, email=f"{name}@example.com",
                                                            password="correct horse battery"))  # fmt: skip
    login = await traced.auth.Token(auth_pb2.TokenRequest(username=name, password="correct horse battery"))
    request_id, (parent, trace_id) = f"req-{uuid.uuid4()}", traceparent()
    metadata = (*bearer(login.access_token), ("traceparent", parent), ("x-request-id", request_id))
    await traced.auth.GetMe(auth_pb2.GetMeRequest(), metadata=metadata)

    spans = [s for s in traced.finished() if s.context.trace_id == trace_id]
    by_id = {s.context.span_id: s for s in spans}
    [get_me] = [s for s in spans if s.name == "cigar.auth.v1.AuthService/GetMe"]
    assert get_me.kind == SpanKind.SERVER and service_of(get_me) == "auth_service"
    assert get_me.parent is not None and get_me.parent.span_id == int(PARENT_ID, 16) and get_me.parent.is_remote
    assert get_me.attributes["request_id"] == request_id
    assert get_me.attributes["rpc.grpc.status_code"] == 0
    # the call out to collection_service, and collection_service's own span under it, with the same request id
    [client] = [s for s in spans if s.kind == SpanKind.CLIENT and s.name.endswith("/ListMyCigars")]
    [served] = [s for s in spans if s.kind == SpanKind.SERVER and s.name.endswith("/ListMyCigars")]
    assert client.parent.span_id == get_me.context.span_id  # type: ignore[union-attr]
    assert served.parent.span_id == client.context.span_id and served.parent.is_remote  # type: ignore[union-attr]
    assert service_of(served) == "collection_service" and served.attributes["request_id"] == request_id
    # a statement span in each service's database, each under its own service's server span
    system = "sqlite" if traced.backend == "sqlite" else "postgresql"
    statements = [s for s in spans if s.attributes.get("db.system") == system]
    parents = {(service_of(s), by_id[s.parent.span_id].name) for s in statements}  # type: ignore[union-attr]
    assert parents == {("auth_service", get_me.name), ("collection_service", served.name)}
    assert all(s.kind == SpanKind.CLIENT for s in statements)
    assert all(name not in str(s.attributes["db.statement"]) for s in statements)  # placeholders, never values


async def test_sqlalchemy_statements_of_a_unit_of_work_are_spans_of_the_call(traced: Traced) -> None:
    name = f"tr_{uuid.uuid4().hex[:8]}"
    parent, trace_id = traceparent()
    await traced.auth.CreateUser(
        auth_pb2.CreateUserRequest(username=name, email=f"{name}@example.com", password="correct horse battery"),
        metadata=(("traceparent", parent),),
    )
    spans = [s for s in traced.finished() if s.context.trace_id == trace_id]
    [create] = [s for s in spans if s.name == "cigar.auth.v1.AuthService/CreateUser"]
    inserts = [s for s in spans if s.name.startswith("INSERT") and s.parent.span_id == create.context.span_id]  # type: ignore[union-attr]
    assert inserts and all(s.kind == SpanKind.CLIENT for s in inserts)


async def test_a_call_that_fails_for_the_caller_is_not_an_error_span(traced: Traced) -> None:
    parent, trace_id = traceparent()
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await traced.auth.GetMe(auth_pb2.GetMeRequest(), metadata=(("traceparent", parent),))
    assert raised.value.code() == grpc.StatusCode.UNAUTHENTICATED
    [span] = await traced.trace(trace_id, count=1)
    assert span.attributes["rpc.grpc.status_code"] == grpc.StatusCode.UNAUTHENTICATED.value[0]
    assert span.status.status_code == StatusCode.UNSET  # the caller's fault, not the server's


async def test_a_call_whose_caller_did_not_sample_it_makes_no_span_in_either_service(traced: Traced) -> None:
    name = f"tr_{uuid.uuid4().hex[:8]}"
    await traced.auth.CreateUser(auth_pb2.CreateUserRequest(username=name, email=f"{name}@example.com",
                                                            password="correct horse battery"))  # fmt: skip
    login = await traced.auth.Token(auth_pb2.TokenRequest(username=name, password="correct horse battery"))
    parent, trace_id = traceparent()
    unsampled = parent.removesuffix("-01") + "-00"
    await traced.auth.GetMe(auth_pb2.GetMeRequest(), metadata=(*bearer(login.access_token), ("traceparent", unsampled)))
    # collection_service got the decision along with the trace id: it made no span either (nor a trace of its own)
    assert [s for s in traced.finished() if s.context.trace_id == trace_id] == []
    assert not [s for s in traced.finished() if s.name.endswith("ListMyCigars") and s.parent is None]
