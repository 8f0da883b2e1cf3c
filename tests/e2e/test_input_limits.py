"""Input at and past the limits, through the real Envoy: a 4xx naming the limit, never a 500, and gRPC errors
through the REST port keep their status."""

from __future__ import annotations

import base64
import uuid

import grpc
import httpx
import pytest
from cigar.auth.v1 import auth_pb2, auth_pb2_grpc
from cigar.collection.v1 import collection_pb2, collection_pb2_grpc

from tests.e2e.conftest import Frontend, Running

HUGE_PASSWORD = "p" * 5000  # past passlib's 4,096, where it raised PasswordSizeError (a 500)


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def violations(response: httpx.Response) -> dict[str, str]:
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["detail"]
    return {v["field"]: v["description"] for d in body["details"] for v in d.get("field_violations", [])}


def test_a_password_past_4096_characters_on_token_is_400_stating_the_limit(frontend: Frontend) -> None:
    _, username = frontend.register()
    response = frontend.client.post("/token", data={"username": username, "password": HUGE_PASSWORD})
    assert "4096" in violations(response)["password"]
    assert response.json()["error"] == "invalid_request"


@pytest.mark.parametrize("field", ["current_password", "new_password"])
def test_a_password_past_the_limits_on_a_password_change_is_400_stating_the_limit(
    frontend: Frontend, field: str
) -> None:
    _, token = frontend.token_for_new_user()
    body = {"current_password": "testpassword", "new_password": "a brand new one", field: HUGE_PASSWORD}
    response = frontend.client.post("/users/me/password", json=body, headers=auth(token))
    assert ("4096" if field == "current_password" else "128") in violations(response)[field]


def test_a_password_past_the_limit_at_registration_is_400_stating_the_limit(frontend: Frontend) -> None:
    response, _ = frontend.register(password=HUGE_PASSWORD)
    assert "128" in violations(response)["password"]


def nested_page_token(depth: int) -> str:
    """A page token whose JSON nests `depth` arrays: Python's json module recursed into it (RecursionError)."""
    raw = ("[" * depth + "]" * depth).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


@pytest.mark.parametrize("depth", [1_500, 5_000])
def test_a_page_token_of_deeply_nested_json_is_400_on_page_token(frontend: Frontend, depth: int) -> None:
    response = frontend.client.get("/cigars/", params={"page_token": nested_page_token(depth)})
    assert "page_token" in violations(response)


def test_a_page_token_of_deeply_nested_json_is_invalid_argument_over_grpc(running: Running) -> None:
    with grpc.insecure_channel(running.collection_addr) as channel:
        stub = collection_pb2_grpc.CollectionServiceStub(channel)
        with pytest.raises(grpc.RpcError) as err:
            stub.ListCigars(collection_pb2.ListCigarsRequest(page_token=nested_page_token(5_000)), timeout=5)
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT, err.value.details()


@pytest.mark.parametrize("size", [60_000, 40_000])
def test_oversized_headers_get_a_431_with_a_detail_and_no_internal_names(frontend: Frontend, size: int) -> None:
    response = frontend.client.get("/users/me/", headers={"Authorization": "Bearer " + "a" * size})
    assert response.status_code == 431, response.text
    detail = response.json()["detail"]
    assert detail and not any(word in detail.lower() for word in ("grpc", "metadata", "x-envoy", ":path", "x-forward"))


def test_large_headers_within_the_gateways_limit_reach_the_service_and_get_its_answer(frontend: Frontend) -> None:
    # a forged token of 20 KB: under Envoy's 32 KiB, over gRPC's 8 KiB default, so only the token check decides
    response = frontend.client.get("/users/me/", headers={"Authorization": "Bearer " + "a" * 20_000})
    assert response.status_code == 401, response.text
    assert response.json()["detail"] and "limit" not in response.text


def test_grpc_errors_through_the_rest_port_keep_their_status(running: Running) -> None:
    # Envoy's listener serves gRPC clients too (the transcoder passes gRPC through): an error answered
    # trailers-only must reach them with its code, not UNKNOWN "No status received".
    address = running.url.removeprefix("http://")
    with grpc.insecure_channel(address) as channel:
        collection = collection_pb2_grpc.CollectionServiceStub(channel)
        with pytest.raises(grpc.RpcError) as missing:
            collection.GetCigar(collection_pb2.GetCigarRequest(id=2**31 - 1), timeout=5)
        with pytest.raises(grpc.RpcError) as anonymous:
            collection.CreateCigar(collection_pb2.CreateCigarRequest(name="n", brand="b", rating=3), timeout=5)
        auth_stub = auth_pb2_grpc.AuthServiceStub(channel)
        with pytest.raises(grpc.RpcError) as bad_login:
            auth_stub.Token(auth_pb2.TokenRequest(username=f"nobody_{uuid.uuid4().hex[:8]}", password="x" * 9))
        listed = collection.ListCigars(collection_pb2.ListCigarsRequest(limit=1), timeout=5)
    assert missing.value.code() == grpc.StatusCode.NOT_FOUND, missing.value.details()
    assert anonymous.value.code() == grpc.StatusCode.UNAUTHENTICATED, anonymous.value.details()
    assert bad_login.value.code() == grpc.StatusCode.INVALID_ARGUMENT, bad_login.value.details()
    assert len(listed.cigars) <= 1
