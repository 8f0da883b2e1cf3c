"""gateway/grpc_guard.lua in LuaJIT 2.1 (Envoy's Lua): gRPC calls grpc-python would mishandle (a body that is not
whole messages, metadata it cannot parse) are answered at once with their status; any other request passes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from lupa import luajit21

GATEWAY = Path(__file__).resolve().parents[2] / "gateway"

# The handle methods the filter uses, over plain tables: headers iterate with pairs() and answer get(), as
# Envoy's header map does; body() is nil when a request has none.
FAKE_ENVOY = r"""
function run(init, text)
  local headers = setmetatable({}, { __index = { get = function(self, k) return rawget(self, k) end } })
  for k, v in pairs(init) do rawset(headers, k, v) end
  local body = nil
  if text ~= nil then
    body = { text = text }
    function body:length() return #self.text end
    function body:getBytes(i, n) return self.text:sub(i + 1, i + n) end
  end
  local replied = nil
  local h = {}
  function h:headers() return headers end
  function h:body() return body end
  function h:respond(hdrs, reply) replied = hdrs end
  envoy_on_request(h)
  return replied
end
"""
MESSAGE = b"\x00\x00\x00\x00\x00"


@pytest.fixture(scope="module")
def lua() -> Any:
    runtime = luajit21.LuaRuntime(unpack_returned_tuples=True)
    assert str(runtime.eval("jit.version")).startswith("LuaJIT 2.1")
    runtime.execute((GATEWAY / "grpc_guard.lua").read_text())
    runtime.execute(FAKE_ENVOY)
    return runtime


def send(
    lua: Any, body: bytes | None, content_type: str = "application/grpc", method: str = "POST", **metadata: str
) -> dict[str, str] | None:
    headers = {":method": method, ":path": "/cigar.auth.v1.AuthService/Token", "content-type": content_type}
    headers.update({k.replace("_", "-"): v for k, v in metadata.items()})
    replied = lua.globals().run(lua.table_from(headers), body)
    return dict(replied) if replied is not None else None


@pytest.mark.parametrize(
    "body",
    [
        MESSAGE,  # one empty message
        b"\x00\x00\x00\x00\x02\x10\x0a",
        b"\x00\x00\x00\x00\x01\x08\x00\x00\x00\x00\x01\x08",  # two messages (a client stream)
        b"\x00\x00\x00\x01\x00" + b"\x01" * 256,  # a length past one byte
    ],
)
def test_whole_messages_pass(lua: Any, body: bytes) -> None:
    assert send(lua, body) is None


@pytest.mark.parametrize(
    "body",
    [
        None,  # no body: grpc-python would wait for a message until the route's timeout
        b"{}",  # shorter than a message's 5-byte prefix
        b"\x00\x00\x00\x00\x03\x10\x0a",  # ends inside the message
        b'{"username":"x"}',  # JSON: its first bytes read as a length far past the end
        b"\x00\x00\x00\x00\x00\x00",  # a stray byte after the message
    ],
)
def test_a_body_that_is_not_whole_messages_is_invalid_argument(lua: Any, body: bytes | None) -> None:
    replied = send(lua, body)
    assert replied is not None
    assert (replied[":status"], replied["content-type"], replied["grpc-status"]) == ("200", "application/grpc", "3")
    assert replied["grpc-message"] == "the request body is not whole gRPC messages"


@pytest.mark.parametrize("timeout", ["1S", "15S", "99999999m", "250m", "3H", "10u", "5n", "1M"])
def test_a_well_formed_grpc_timeout_passes(lua: Any, timeout: str) -> None:
    assert send(lua, MESSAGE, grpc_timeout=timeout) is None


@pytest.mark.parametrize("timeout", ["", "5", "abc", "999999999S", "1s", "-1S", "1.5S", "1S "])
def test_a_malformed_grpc_timeout_is_invalid_argument_not_internal(lua: Any, timeout: str) -> None:
    replied = send(lua, MESSAGE, grpc_timeout=timeout)
    assert replied is not None and replied["grpc-status"] == "3"
    assert replied["grpc-message"].startswith("grpc-timeout must be")


def test_an_unknown_grpc_encoding_is_unimplemented(lua: Any) -> None:
    replied = send(lua, MESSAGE, grpc_encoding="br")
    assert replied is not None and replied["grpc-status"] == "12"
    assert all(send(lua, MESSAGE, grpc_encoding=known) is None for known in ("identity", "gzip", "deflate"))


@pytest.mark.parametrize(("value", "good"), [("AAEC", True), ("AAE", True), ("AA==", True), ("", True),
                                             ("ab$", False), ("!!!", False), ("AA===", False)])  # fmt: skip
def test_a_bin_value_must_be_base64(lua: Any, value: str, good: bool) -> None:
    replied = send(lua, MESSAGE, x_trace_bin=value)
    assert (replied is None) == good
    if replied is not None:
        assert (replied["grpc-status"], replied["grpc-message"]) == ("3", "x-trace-bin must be base64")


@pytest.mark.parametrize(
    ("content_type", "method"),
    [("application/json", "POST"), ("application/x-www-form-urlencoded", "POST"), ("", "POST"),
     ("application/grpc-web+proto", "POST")],  # gRPC-Web reaches this filter as gRPC, after grpc_web
)  # fmt: skip
def test_other_requests_are_left_alone(lua: Any, content_type: str, method: str) -> None:
    assert send(lua, b"{", content_type, method, grpc_timeout="x") is None


def test_a_grpc_get_is_left_to_the_service_which_resets_it_at_once(lua: Any) -> None:
    assert send(lua, None, method="GET") is None


def test_a_grpc_content_type_with_a_suffix_is_checked(lua: Any) -> None:
    assert send(lua, b"{", "application/grpc+proto") is not None
