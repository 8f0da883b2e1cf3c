"""gRPC-Web through the real Envoy, as a browser's generated client speaks it: a small client here writes the
framing (5-byte frames, trailers in a flagged last frame) and reads it back, from another origin (CORS)."""

from __future__ import annotations

import base64
import re
import struct
import uuid
from dataclasses import dataclass, field

import httpx
import pytest
from cigar.auth.v1 import auth_pb2
from cigar.collection.v1 import collection_pb2
from google.api import httpbody_pb2
from google.protobuf.message import Message
from google.rpc import error_details_pb2, status_pb2

ORIGIN = "http://app.example:5173"  # a page served from elsewhere than the gateway
AUTH = "/cigar.auth.v1.AuthService"
COLLECTION = "/cigar.collection.v1.CollectionService"
TRAILER_FLAG = 0x80


@dataclass
class Reply:
    response: httpx.Response
    messages: list[bytes] = field(default_factory=list)
    trailers: dict[str, str] = field(default_factory=dict)

    @property
    def status(self) -> int:
        """grpc-status: from the trailer frame, or from the headers of a trailers-only reply."""
        return int(self.trailers.get("grpc-status", self.response.headers.get("grpc-status", "-1")))

    def detail(self) -> status_pb2.Status:
        raw = self.response.headers["grpc-status-details-bin"]
        return status_pb2.Status.FromString(base64.b64decode(raw + "=" * (-len(raw) % 4)))


def frames(body: bytes) -> Reply:
    reply = Reply(httpx.Response(200))
    at = 0
    while at < len(body):
        flag, size = body[at], struct.unpack(">I", body[at + 1 : at + 5])[0]
        payload, at = body[at + 5 : at + 5 + size], at + 5 + size
        if flag & TRAILER_FLAG:
            for line in payload.decode().split("\r\n"):
                if line:
                    name, _, value = line.partition(":")
                    reply.trailers[name.strip().lower()] = value.strip()
        else:
            reply.messages.append(payload)
    assert at == len(body), "a frame ran past the body"
    return reply


def from_text(body: bytes) -> bytes:
    """grpc-web-text: Envoy encodes each piece of the reply on its own, so the body is base64 runs, each padded."""
    return b"".join(base64.b64decode(run) for run in re.findall(rb"[A-Za-z0-9+/]+={0,2}", body))


def call(
    http: httpx.Client,
    method: str,
    request: Message,
    token: str | None = None,
    text: bool = False,
    extra: dict[str, str] | None = None,
) -> Reply:
    """One gRPC-Web call: binary (application/grpc-web+proto) or text (base64, application/grpc-web-text)."""
    payload = request.SerializeToString()
    body = b"\x00" + struct.pack(">I", len(payload)) + payload
    ctype = "application/grpc-web-text" if text else "application/grpc-web+proto"
    headers = {
        "content-type": ctype,
        "accept": ctype,
        "x-grpc-web": "1",
        "x-user-agent": "grpc-web-test/1",
        "origin": ORIGIN,
    }
    if token:
        headers["authorization"] = f"Bearer {token}"
    headers.update(extra or {})
    response = http.post(method, content=base64.b64encode(body) if text else body, headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["access-control-allow-origin"] == ORIGIN
    assert response.headers["content-type"].startswith(ctype)
    reply = frames(from_text(response.content) if text else response.content)
    reply.response = response
    return reply


def ok(reply: Reply) -> bytes:
    assert reply.status == 0, (reply.trailers, dict(reply.response.headers))
    [message] = reply.messages
    return message


def new_user(http: httpx.Client) -> tuple[auth_pb2.User, str]:
    name = f"web_{uuid.uuid4().hex[:8]}"
    created = call(
        http,
        f"{AUTH}/CreateUser",
        auth_pb2.CreateUserRequest(username=name, email=f"{name}@example.com", password="testpassword"),
    )
    user = auth_pb2.User.FromString(ok(created))
    token = auth_pb2.TokenResponse.FromString(
        ok(call(http, f"{AUTH}/Token", auth_pb2.TokenRequest(username=name, password="testpassword")))
    )
    return user, token.access_token


def test_a_preflight_from_another_origin_allows_the_grpc_web_headers(http: httpx.Client) -> None:
    asked = "content-type,x-grpc-web,x-user-agent,grpc-timeout,authorization,connect-protocol-version"
    response = http.options(
        f"{AUTH}/Token",
        headers={"Origin": ORIGIN, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": asked},
    )
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == ORIGIN
    allowed = {h.strip() for h in response.headers["access-control-allow-headers"].split(",")}
    assert set(asked.split(",")) <= allowed
    exposed = {h.strip() for h in response.headers["access-control-expose-headers"].split(",")}
    assert {"grpc-status", "grpc-message", "grpc-status-details-bin"} <= exposed


@pytest.mark.parametrize("text", [False, True], ids=["binary", "text"])
def test_a_browser_client_registers_logs_in_adds_and_lists_its_cigars(http: httpx.Client, text: bool) -> None:
    user, token = new_user(http)
    added = call(
        http,
        f"{COLLECTION}/CreateCigar",
        collection_pb2.CreateCigarRequest(name="Web", brand="Envoy", rating=4),
        token,
        text,
    )
    cigar = collection_pb2.Cigar.FromString(ok(added))
    mine = collection_pb2.ListMyCigarsResponse.FromString(
        ok(call(http, f"{COLLECTION}/ListMyCigars", collection_pb2.ListMyCigarsRequest(), token, text))
    )
    me = auth_pb2.User.FromString(ok(call(http, f"{AUTH}/GetMe", auth_pb2.GetMeRequest(), token, text)))
    assert cigar.owner_id == user.id and cigar.name == "Web"
    assert [c.id for c in mine.cigars] == [cigar.id]
    assert [c.id for c in me.cigars] == [cigar.id]


def test_a_refused_call_carries_its_status_and_details_where_a_browser_can_read_them(http: httpx.Client) -> None:
    user, _ = new_user(http)
    reply = call(http, f"{AUTH}/Token", auth_pb2.TokenRequest(username=user.username, password="wrong-password"))
    assert reply.status == 3 and reply.messages == []  # INVALID_ARGUMENT, as auth_service answers a bad grant
    assert reply.response.headers["grpc-message"] == "incorrect username or password"
    info = error_details_pb2.ErrorInfo()
    assert reply.detail().details[0].Unpack(info) and info.reason == "invalid_grant"
    exposed = reply.response.headers["access-control-expose-headers"]
    assert "grpc-status-details-bin" in exposed


def test_a_throttled_login_says_when_to_come_back(http: httpx.Client) -> None:
    user, _ = new_user(http)
    wrong = auth_pb2.TokenRequest(username=user.username, password="wrong-password")
    replies = [call(http, f"{AUTH}/Token", wrong) for _ in range(8)]
    throttled = [r for r in replies if r.status == 8]  # RESOURCE_EXHAUSTED, after a few refusals
    assert throttled and replies[0].status == 3
    retry = error_details_pb2.RetryInfo()
    assert any(d.Unpack(retry) for d in throttled[0].detail().details)
    assert retry.retry_delay.seconds > 0


def test_bad_input_comes_back_as_field_violations(http: httpx.Client) -> None:
    _, token = new_user(http)
    reply = call(
        http,
        f"{COLLECTION}/CreateCigar",
        collection_pb2.CreateCigarRequest(name="Web", brand="Envoy", rating=11),
        token,
    )
    assert reply.status == 3
    violations = error_details_pb2.BadRequest()
    assert any(d.Unpack(violations) for d in reply.detail().details)
    assert [v.field for v in violations.field_violations] == ["rating"]


def test_a_call_without_a_token_is_unauthenticated_not_a_gateway_error(http: httpx.Client) -> None:
    reply = call(http, f"{COLLECTION}/ListMyCigars", collection_pb2.ListMyCigarsRequest())
    assert reply.status == 16


def test_a_server_stream_arrives_frame_by_frame_with_its_trailers(http: httpx.Client) -> None:
    _, token = new_user(http)
    for name in ("One", "Two"):
        ok(
            call(
                http,
                f"{COLLECTION}/CreateCigar",
                collection_pb2.CreateCigarRequest(name=name, brand="Stream", rating=3),
                token,
            )
        )
    request = collection_pb2.ExportMyCigarsRequest(format=collection_pb2.EXPORT_FORMAT_CSV)
    reply = call(http, f"{COLLECTION}/ExportMyCigars", request, token)
    assert reply.status == 0 and reply.messages
    csv = b"".join(httpbody_pb2.HttpBody.FromString(m).data for m in reply.messages).decode()
    assert csv.splitlines()[0] == "id,name,brand,origin,flavor_notes,rating"
    assert sorted(line.split(",")[1] for line in csv.splitlines()[1:]) == ["One", "Two"]


@pytest.mark.parametrize("body", [b"", b"{}", b"\x00\x00\x00\x00\x09\x0a\x01x"], ids=["empty", "json", "cut short"])
def test_a_body_that_is_not_whole_messages_is_invalid_argument(http: httpx.Client, body: bytes) -> None:
    # grpc-python would wait for the rest until the route's timeout (a 504 after 15 s): the gateway refuses it
    headers = {"content-type": "application/grpc-web+proto", "x-grpc-web": "1", "origin": ORIGIN}
    response = http.post(f"{AUTH}/Token", content=body, headers=headers)
    assert response.status_code == 200 and response.headers["access-control-allow-origin"] == ORIGIN
    assert response.headers["grpc-status"] == "3"
    assert response.headers["grpc-message"] == "the request body is not whole gRPC messages"


@pytest.mark.parametrize(
    ("header", "value", "status"),
    [("grpc-timeout", "soon", "3"), ("x-trace-bin", "not base64!", "3"), ("grpc-encoding", "br", "12")],
)
def test_metadata_the_service_cannot_parse_is_refused_with_its_status_not_internal(
    http: httpx.Client, header: str, value: str, status: str
) -> None:
    reply = call(http, f"{AUTH}/GetJwks", auth_pb2.GetJwksRequest(), extra={header: value})
    assert (reply.status, reply.messages) == (int(status), [])


def test_an_unknown_method_is_unimplemented(http: httpx.Client) -> None:
    reply = call(http, f"{AUTH}/NoSuchMethod", auth_pb2.GetMeRequest())
    assert reply.status == 12


def test_a_rest_call_is_unchanged_beside_grpc_web(http: httpx.Client) -> None:
    response = http.get("/cigars/?limit=1", headers={"Origin": ORIGIN})
    assert response.status_code == 200 and isinstance(response.json(), list)
    assert "grpc-status" not in response.headers
