"""The same operations as an internal service does them: generated stubs against the real processes,
and engineers' debugging through server reflection with `buf curl` (grpcurl's equivalent here)."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from pathlib import Path

import grpc
import pytest
from cigar.auth.v1 import auth_pb2, auth_pb2_grpc
from cigar.collection.v1 import collection_pb2, collection_pb2_grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from tests.e2e.conftest import Running

BUF = str(Path(sys.executable).parent / "buf")


def test_the_documented_operations_work_through_the_generated_stubs(running: Running) -> None:
    name = f"stub_{uuid.uuid4().hex[:8]}"
    with grpc.insecure_channel(running.auth_addr) as a, grpc.insecure_channel(running.collection_addr) as c:
        auth = auth_pb2_grpc.AuthServiceStub(a)
        collection = collection_pb2_grpc.CollectionServiceStub(c)
        user = auth.CreateUser(
            auth_pb2.CreateUserRequest(username=name, email=f"{name}@example.com", password="testpassword"), timeout=5
        )
        token = auth.Token(auth_pb2.TokenRequest(username=name, password="testpassword"), timeout=5).access_token
        metadata = (("authorization", f"Bearer {token}"),)
        cigar = collection.CreateCigar(
            collection_pb2.CreateCigarRequest(name="Stub", brand="Grpc", rating=5), metadata=metadata, timeout=5
        )
        me = auth.GetMe(auth_pb2.GetMeRequest(), metadata=metadata, timeout=5)
        # filtered to this user: the shared stack holds other tests' cigars, more than a page of them
        listed = collection.ListCigars(collection_pb2.ListCigarsRequest(owner_id=user.id, limit=100), timeout=5)
    assert cigar.owner_id == user.id
    assert [c.id for c in me.cigars] == [cigar.id]
    assert cigar.id in {c.id for c in listed.cigars}


@pytest.mark.parametrize("service", ["cigar.auth.v1.AuthService", "cigar.collection.v1.CollectionService"])
def test_both_services_report_serving_on_grpc_health(running: Running, service: str) -> None:
    addr = running.auth_addr if "auth" in service else running.collection_addr
    with grpc.insecure_channel(addr) as channel:
        reply = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(service=service), timeout=5)
    assert reply.status == health_pb2.HealthCheckResponse.SERVING


def buf_curl(*args: str) -> str:
    result = subprocess.run(
        [BUF, "curl", "--protocol", "grpc", "--http2-prior-knowledge", *args],
        capture_output=True, text=True, timeout=30,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.mark.parametrize(
    ("which", "service"),
    [("auth", "cigar.auth.v1.AuthService"), ("collection", "cigar.collection.v1.CollectionService")],
)
def test_buf_curl_lists_the_service_health_and_reflection(running: Running, which: str, service: str) -> None:
    addr = running.auth_addr if which == "auth" else running.collection_addr
    listed = set(buf_curl("--list-services", f"http://{addr}").split())
    assert {service, "grpc.health.v1.Health", "grpc.reflection.v1alpha.ServerReflection"} <= listed


def test_buf_curl_calls_rpcs_described_only_by_reflection(running: Running) -> None:
    name = f"curl_{uuid.uuid4().hex[:8]}"
    body = json.dumps({"username": name, "email": f"{name}@example.com", "password": "testpassword"})
    created = json.loads(buf_curl("-d", body, f"http://{running.auth_addr}/cigar.auth.v1.AuthService/CreateUser"))
    assert created["username"] == name
    login = json.dumps({"username": name, "password": "testpassword"})
    token = json.loads(buf_curl("-d", login, f"http://{running.auth_addr}/cigar.auth.v1.AuthService/Token"))
    mine = buf_curl(
        "-H", f"Authorization: Bearer {token['accessToken']}",
        f"http://{running.collection_addr}/cigar.collection.v1.CollectionService/ListMyCigars",
    )  # fmt: skip
    assert json.loads(mine) == {}  # a new user has no cigars; proto3 JSON omits the empty list
