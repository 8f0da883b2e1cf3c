"""A request through Envoy is one trace: the gateway's spans, both services' and both databases', each the child of
the one before, exported over OTLP to a receiver in this process (scripts/otlp_receiver.py)."""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from opentelemetry.proto.trace.v1 import trace_pb2

from scripts.otlp_receiver import Receiver, Span
from scripts.run_postgres import NAMES, postgres_urls
from scripts.stack import StackConfig, running
from tests.conftest import BACKENDS, PG_ADMIN_URL, Databases, database_url
from tests.e2e.conftest import Frontend

SERVER, CLIENT = trace_pb2.Span.SPAN_KIND_SERVER, trace_pb2.Span.SPAN_KIND_CLIENT


@pytest.fixture(scope="module")
def receiver() -> Iterator[tuple[Receiver, int]]:
    servicer = Receiver()
    port = servicer.start()
    try:
        yield servicer, port
    finally:
        servicer.stop()


@pytest.fixture(scope="module", params=BACKENDS)
async def traced_stack(
    request: pytest.FixtureRequest,
    receiver: tuple[Receiver, int],
    tmp_path_factory: pytest.TempPathFactory,
    pg_databases: Databases,
) -> AsyncIterator[str]:
    """The whole stack with tracing on, as an operator turns it on: the standard variables, for all three."""
    backend, (_, port) = request.param, receiver
    var = tmp_path_factory.mktemp(f"traces-{backend}")
    if backend == "postgres":
        names = {setting: f"cigar_tr_{uuid.uuid4().hex[:10]}" for setting in NAMES}
        pg_databases.created.extend(names.values())
        urls = await postgres_urls(PG_ADMIN_URL, names)
    else:
        urls = {s: await database_url(backend, s.split("_")[0].lower(), var, pg_databases) for s in NAMES}
    otel = {
        "OTEL_TRACES_EXPORTER": "otlp",
        "OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{port}",
        "OTEL_BSP_SCHEDULE_DELAY": "100",  # export within a tenth of a second rather than five
    }
    config = StackConfig.on_free_ports(
        var, auth_database_url=urls["AUTH_DATABASE_URL"], collection_database_url=urls["COLLECTION_DATABASE_URL"],
        extra_env=otel,
    )  # fmt: skip
    with running(config, var / "stack.log") as stack:
        yield stack.base_url


def wait_for(receiver: Receiver, trace_id: str, enough: set[tuple[str, str]]) -> list[Span]:
    """The trace's spans once it has one of each (service, kind) in `enough`, or what came within 15 s."""
    deadline = time.monotonic() + 15
    while True:
        spans = receiver.trace(trace_id)
        kinds = {(s.service, "db" if "db.system" in s.attributes else str(s.kind)) for s in spans}
        if kinds >= enough or time.monotonic() > deadline:
            return spans
        time.sleep(0.1)


def test_get_me_through_envoy_is_one_trace_from_the_gateway_to_both_databases(
    traced_stack: str, receiver: tuple[Receiver, int]
) -> None:
    with httpx.Client(base_url=traced_stack, timeout=10) as client:
        _, token = Frontend(client).token_for_new_user()
        trace_id, caller = uuid.uuid4().hex, uuid.uuid4().hex[:16]
        response = client.get(
            "/users/me/", headers={"Authorization": f"Bearer {token}", "traceparent": f"00-{trace_id}-{caller}-01"}
        )
    assert response.status_code == 200
    request_id = response.headers["x-request-id"]
    enough = {("gateway", str(SERVER)), ("gateway", str(CLIENT)), ("auth_service", str(SERVER)),
              ("auth_service", "db"), ("collection_service", str(SERVER)), ("collection_service", "db")}  # fmt: skip
    spans = wait_for(receiver[0], trace_id, enough)
    by_id = {s.span_id: s for s in spans}

    def parent(span: Span) -> Span:
        return by_id[span.parent_id]

    [ingress] = [s for s in spans if s.service == "gateway" and s.kind == SERVER]
    assert ingress.parent_id == caller  # the caller's traceparent is the root
    assert ingress.attributes.get("request_id") == request_id
    [get_me] = [s for s in spans if s.name == "cigar.auth.v1.AuthService/GetMe"]
    assert get_me.service == "auth_service" and get_me.kind == SERVER
    hop = parent(get_me)  # Envoy's span of its call to auth_service
    assert (hop.service, hop.kind, parent(hop)) == ("gateway", CLIENT, ingress)
    assert get_me.attributes["request_id"] == request_id
    [listed] = [s for s in spans if s.name == "cigar.collection.v1.CollectionService/ListMyCigars" and s.kind == SERVER]
    out = parent(listed)  # auth_service's call out to collection_service
    assert (listed.service, out.service, out.kind) == ("collection_service", "auth_service", CLIENT)
    assert parent(out) == get_me
    assert listed.attributes["request_id"] == request_id
    # each service's statements are spans under its own server span, one database each
    statements = [s for s in spans if "db.system" in s.attributes]
    assert {(s.service, parent(s).name) for s in statements} == {
        ("auth_service", get_me.name), ("collection_service", listed.name)
    }  # fmt: skip
    assert {s.kind for s in statements} == {CLIENT}
    assert len({s.attributes["db.name"] for s in statements}) == 2


def test_a_callers_unsampled_traceparent_stays_unsampled_in_every_hop(
    traced_stack: str, receiver: tuple[Receiver, int]
) -> None:
    unsampled, sampled = uuid.uuid4().hex, uuid.uuid4().hex
    with httpx.Client(base_url=traced_stack, timeout=10) as client:
        for trace_id, flags in ((unsampled, "00"), (sampled, "01")):
            traceparent = f"00-{trace_id}-{uuid.uuid4().hex[:16]}-{flags}"
            assert client.get("/cigars/", headers={"traceparent": traceparent}).status_code == 200
    # once the sampled request's spans are in, the unsampled one's would be too
    assert wait_for(receiver[0], sampled, {("gateway", str(SERVER)), ("collection_service", "db")})
    assert receiver[0].trace(unsampled) == []
