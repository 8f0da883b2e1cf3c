"""gateway/rest_compat.lua with the generated route table answers every operation as /openapi.json documents it.

The shim runs in LuaJIT 2.1 (lupa), the Lua of Envoy, against a fake of the few handle methods it uses: the
request goes in as a REST client sends it, the response comes back as the transcoder prints it, and what the
shim makes of them must be what the document says (status, bare array or object or no body, headers, form
body). Both are generated from the (cigar.rest.v1.route) options, so this fails when the two drift apart (a
stale table, a shim that ignores a field of the option, a path the matcher misses). The e2e conformance test
checks the same document against the live gateway.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from lupa import luajit21

ROOT = Path(__file__).resolve().parents[2]
GATEWAY = ROOT / "gateway"
DOC: dict[str, Any] = json.loads((GATEWAY / "generated" / "openapi.json").read_text())

# The handle methods rest_compat.lua calls, over plain tables. Header names are lower case, as in Envoy.
FAKE_ENVOY = r"""
local function header_map(init)
  local map = {}
  for k, v in pairs(init) do map[k:lower()] = v end
  return setmetatable(map, { __index = {
    get = function(self, k) return rawget(self, k:lower()) end,
    replace = function(self, k, v) rawset(self, k:lower(), v) end,
    add = function(self, k, v) rawset(self, k:lower(), v) end,
    remove = function(self, k) rawset(self, k:lower(), nil) end,
  } })
end

local function buffer(text)
  local b = { text = text }
  function b:length() return #self.text end
  function b:getBytes(i, n) return self.text:sub(i + 1, i + n) end
  function b:setBytes(s) self.text = s end
  return b
end

local function handle(headers, body, stream)
  local h = {}
  function h:headers() return headers end
  -- the route's metadata: REST requests match Envoy's fallback route (envoy.yaml.tmpl) until transcoded
  function h:metadata()
    return { get = function(_, k) return stream.route_meta[k] end }
  end
  function h:trailers() return stream.trailers end
  function h:body() stream.body_reads[stream.phase] = true; return body end
  function h:streamInfo()
    return { dynamicMetadata = function()
      return {
        set = function(_, ns, k, v) stream.meta[ns] = stream.meta[ns] or {}; stream.meta[ns][k] = v end,
        get = function(_, ns) return stream.meta[ns] end,
      }
    end }
  end
  function h:respond(hdrs, text) stream.responded = { headers = hdrs, body = text } end
  return h
end

-- One exchange: the request through envoy_on_request, then the upstream answer through envoy_on_response.
function exchange(req_headers, req_body, resp_headers, resp_body, route_meta)
  local stream = { meta = {}, body_reads = {}, phase = "request", trailers = header_map({ ["grpc-status"] = "0" }),
                   route_meta = route_meta or { fallback = true, shared_max_age = "0" } }
  local rq_headers, rq_body = header_map(req_headers), buffer(req_body)
  envoy_on_request(handle(rq_headers, rq_body, stream))
  stream.phase = "response"
  if stream.responded then
    local r = stream.responded
    return { status = r.headers[":status"], answered_by_lua = true, headers = r.headers, body = r.body }
  end
  local rs_headers, rs_body = header_map(resp_headers), buffer(resp_body)
  envoy_on_response(handle(rs_headers, rs_body, stream))
  local out_headers = {}
  for k, v in pairs(rs_headers) do out_headers[k] = v end
  local meta = stream.meta["cigar.rest"] or {}
  return { status = rs_headers[":status"], headers = out_headers, body = rs_body.text,
           request_method = rq_headers[":method"], trailers_left = stream.trailers["grpc-status"] ~= nil,
           request_body = rq_body.text, request_content_type = rq_headers["content-type"],
           rpc = meta["rpc"], response_body_read = stream.body_reads.response or false }
end
"""


@pytest.fixture(scope="module")
def lua() -> Any:
    runtime = luajit21.LuaRuntime(unpack_returned_tuples=True)
    assert str(runtime.eval("jit.version")).startswith("LuaJIT 2.1")  # Envoy's Lua
    # what the Lua filter's package_paths in gateway/envoy.yaml.tmpl says
    runtime.execute(f'package.path = "{GATEWAY / "generated"}/?.lua;" .. package.path')
    runtime.execute((GATEWAY / "rest_compat.lua").read_text())
    runtime.execute(FAKE_ENVOY)
    return runtime


def exchange(
    lua: Any,
    method: str,
    path: str,
    *,
    request_headers: dict[str, str] | None = None,
    request_body: str = "",
    status: str = "200",
    body: str = "{}",
    route_meta: dict[str, Any] | None = None,
) -> dict[str, Any]:
    req = {":method": method, ":path": path, **(request_headers or {})}
    resp = {":status": status, "content-type": "application/json", "content-length": str(len(body))}
    meta = lua.table_from(route_meta) if route_meta is not None else None
    result = lua.globals().exchange(lua.table_from(req), request_body, lua.table_from(resp), body, meta)
    out = dict(result)
    if out.get("headers") is not None:
        out["headers"] = dict(out["headers"])
    return out


def documented_operations() -> list[Any]:
    return [
        pytest.param(path, verb, op, id=f"{verb.upper()} {path}")
        for path, item in DOC["paths"].items()
        for verb, op in item.items()
    ]


def spellings(path: str) -> list[str]:
    """The documented path with a made-up id, in the spellings the transcoder maps to the same route."""
    concrete = re.sub(r"\{[^}]+\}", "7", path)
    bare = concrete.rstrip("/") or "/"
    return [bare, bare + "/", bare + "//", bare + "?skip=1&next=/x/", bare + "/?q=a%2Fb"]


RAW_BODY = 'id,name\r\n1,"a ] "" [ {b}"\r\n'  # a google.api.HttpBody answer: bytes the service chose


def raw(documented: dict[str, Any]) -> bool:
    """The answer is raw bytes in the service's media type (a download), not the transcoder's JSON."""
    return bool(documented.get("content")) and "application/json" not in documented["content"]


def transcoded_body(op: dict[str, Any]) -> str:
    """What the transcoder prints for the operation's success: a page for a bare array, else an object."""
    success = next(s for s in op["responses"] if s.startswith("2"))
    if raw(op["responses"][success]):
        return RAW_BODY
    schema = op["responses"][success].get("content", {}).get("application/json", {}).get("schema", {})
    if schema.get("type") == "array":
        field = route_for(op)["bare_array"]
        return json.dumps({field: [{"id": 1, "name": 'a ] " [ b'}], "next_page_token": "Mg"}, separators=(",", ":"))
    return '{"id":1,"name":"x"}' if schema else "{}"


def to_python(value: Any) -> Any:
    if luajit21.lua_type(value) != "table":
        return value
    items = {k: to_python(v) for k, v in value.items()}
    return [items[i] for i in range(1, len(items) + 1)] if set(items) == set(range(1, len(items) + 1)) else items


ROUTES: list[dict[str, Any]] = to_python(
    luajit21.LuaRuntime().execute((GATEWAY / "generated" / "rest_routes.lua").read_text())
)


def route_for(op: dict[str, Any]) -> dict[str, Any]:
    [route] = [r for r in ROUTES if r["rpc"].rsplit(".", 1)[1] == re.sub(r"\d+$", "", op["operationId"])]
    return route


@pytest.mark.parametrize(("path", "verb", "op"), documented_operations())
def test_the_shim_answers_every_documented_operation_as_documented(
    lua: Any, path: str, verb: str, op: dict[str, Any]
) -> None:
    success = next(s for s in op["responses"] if s.startswith("2"))
    documented = op["responses"][success]
    for spelling in spellings(path):
        result = exchange(lua, verb.upper(), spelling, body=transcoded_body(op))
        where = f"{verb.upper()} {spelling}"
        assert result["rpc"].rsplit(".", 1)[1] == re.sub(r"\d+$", "", op["operationId"]), where
        assert result["status"] == success, where
        if "content" not in documented:
            assert result["body"] == "" and "content-type" not in result["headers"], where
        elif raw(documented):
            # streamed through untouched: the shim must not even read it (reading buffers the whole stream)
            assert result["body"] == RAW_BODY and not result["response_body_read"], where
        else:
            schema = documented["content"]["application/json"]["schema"]
            answer = json.loads(result["body"])
            assert isinstance(answer, list) == (schema.get("type") == "array"), where
            assert int(result["headers"]["content-length"]) == len(result["body"]), where
        for name, header in documented.get("headers", {}).items():
            assert_documented_header(result["headers"], name, header, where)


def assert_documented_header(headers: dict[str, str], name: str, header: dict[str, Any], where: str) -> None:
    """A fixed header has its value; a public Cache-Control its documented start; Link only with a next page."""
    schema = header["schema"]
    if "const" in schema:
        assert headers.get(name.lower()) == schema["const"], where
    elif "example" in schema:
        assert headers.get(name.lower(), "").startswith(schema["example"]), where
    elif name != "Link":
        assert headers.get(name.lower()), f"{where}: {name}"


@pytest.mark.parametrize(("path", "verb", "op"), documented_operations())
def test_headers_are_set_on_errors_too_and_errors_keep_their_status(
    lua: Any, path: str, verb: str, op: dict[str, Any]
) -> None:
    success = next(s for s in op["responses"] if s.startswith("2"))
    error = '{"code":3,"message":"invalid input: x","details":[]}'
    result = exchange(lua, verb.upper(), re.sub(r"\{[^}]+\}", "7", path), status="400", body=error)
    assert result["status"] == "400"
    assert json.loads(result["body"])["detail"] == "invalid input: x"
    for name, header in op["responses"][success].get("headers", {}).items():
        if "const" in header["schema"]:  # fixed headers go on every answer; validators and public caching do not
            assert result["headers"].get(name.lower()) == header["schema"]["const"]
        else:
            assert name.lower() not in result["headers"]


def test_an_oauth_error_carries_its_message_as_error_description_too(lua: Any) -> None:
    message = 'the refresh token was used before: \\"quoted\\" \\\\ end'
    error = (
        '{"code":3,"message":"' + message + '","details":[{"@type":"type.googleapis.com/google.rpc.ErrorInfo",'
        '"reason":"invalid_grant","domain":"auth.cigar","metadata":{}}]}'
    )
    result = exchange(lua, "POST", "/token", status="400", body=error)
    answer = json.loads(result["body"])
    assert answer["error"] == "invalid_grant"
    assert answer["error_description"] == answer["detail"] == json.loads('"' + message + '"')
    assert answer["code"] == 3 and answer["details"][0]["reason"] == "invalid_grant"


def form_operations() -> list[Any]:
    return [
        pytest.param(path, verb, op, id=f"{verb.upper()} {path}")
        for path, verb, op in (p.values for p in documented_operations())
        if "application/x-www-form-urlencoded" in op.get("requestBody", {}).get("content", {})
    ]


@pytest.mark.parametrize(("path", "verb", "op"), form_operations())
def test_a_documented_form_body_becomes_the_json_request(lua: Any, path: str, verb: str, op: dict[str, Any]) -> None:
    schema = op["requestBody"]["content"]["application/x-www-form-urlencoded"]["schema"]
    fields = DOC["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]["properties"]
    form = "&".join(f"{name}=v%20{i}+%26" for i, name in enumerate(fields)) + "&unknown=dropped"
    result = exchange(
        lua,
        verb.upper(),
        path,
        request_headers={"content-type": "application/x-www-form-urlencoded"},
        request_body=form,
    )
    assert result["request_content_type"] == "application/json"
    assert json.loads(result["request_body"]) == {name: f"v {i} &" for i, name in enumerate(fields)}


def test_form_operations_exist() -> None:
    assert sorted(p.id for p in form_operations()) == ["POST /revoke", "POST /token"]


def test_every_route_of_the_table_is_a_documented_operation_with_the_same_status() -> None:
    documented = {
        (verb.upper(), re.sub(r"/$", "", path) or "/", op["operationId"]): next(
            s for s in op["responses"] if s.startswith("2")
        )
        for path, item in DOC["paths"].items()
        for verb, op in item.items()
    }
    table = {
        (r["method"], re.sub(r"\{([^}=]+)=[^}]*\}", r"{\1}", r["path"]), r["rpc"].rsplit(".", 1)[1]): str(r["status"])
        for r in ROUTES
    }
    assert table == documented


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/cigar.auth.v1.AuthService/CreateUser"),  # a gRPC path off the fallback route: left alone
        ("DELETE", "/cigar.collection.v1.CollectionService/DeleteCigar"),
        ("GET", "/docs"),  # Envoy's own routes (files) carry no fallback metadata
    ],
)
def test_paths_off_the_fallback_route_are_left_alone(lua: Any, method: str, path: str) -> None:
    result = exchange(lua, method, path, body='{"cigars":[],"next_page_token":""}', route_meta={})
    assert (result["rpc"], result["status"], result["body"]) == ("", "200", '{"cigars":[],"next_page_token":""}')
    assert "cache-control" not in result["headers"]


@pytest.mark.parametrize(
    "path",
    ["/cigars/7/extra", "/tokens", "//users", "/nope?x=1"],  # '//users': no template matches, nor in Envoy
)
def test_unknown_paths_are_404_in_the_error_shape(lua: Any, path: str) -> None:
    result = exchange(lua, "GET", path)
    assert result["answered_by_lua"] and result["status"] == "404"
    body = json.loads(result["body"])
    assert body["error"] == "not_found" and path.split("?")[0] in body["detail"]


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("DELETE", "/cigars", "GET, HEAD, POST, OPTIONS"),
        ("PUT", "/cigars/7", "GET, HEAD, PATCH, DELETE, OPTIONS"),
        ("GET", "/token", "POST, OPTIONS"),
    ],
)
def test_a_wrong_method_is_405_with_allow(lua: Any, method: str, path: str, allow: str) -> None:
    result = exchange(lua, method, path)
    assert (result["status"], dict(result["headers"])["allow"]) == ("405", allow)
    body = json.loads(result["body"])
    assert body["error"] == "method_not_allowed" and allow in body["detail"]


def test_head_is_served_as_the_get_of_the_path(lua: Any) -> None:
    result = exchange(lua, "HEAD", "/cigars/7", body='{"id":7}')
    assert (result["request_method"], result["status"], result["rpc"]) == (
        "GET", "200", "cigar.collection.v1.CollectionService.GetCigar")  # fmt: skip
    assert result["headers"]["etag"]


PAGE = '{"cigars":[{"id":1}],"next_page_token":"eyJhZnRlciI6MX0"}'


def test_a_page_with_a_next_page_links_to_it_with_the_same_filters_and_no_skip(lua: Any) -> None:
    gzip = {"accept-encoding": "gzip"}  # a compressed answer goes out chunked, where trailers would show
    result = exchange(lua, "GET", "/cigars/?brand=Padr%C3%B3n&skip=3&limit=2&q=a+b", request_headers=gzip, body=PAGE)
    assert result["body"] == '[{"id":1}]'
    assert (
        result["headers"]["link"] == '</cigars/?page_token=eyJhZnRlciI6MX0&brand=Padr%C3%B3n&limit=2&q=a+b>; rel="next"'
    )
    assert not result["trailers_left"]  # grpc-status: 0 would reach chunked HTTP/1.1 clients


def test_a_following_page_replaces_its_page_token(lua: Any) -> None:
    result = exchange(lua, "GET", "/cigars?page_token=old&limit=5", body=PAGE)
    assert result["headers"]["link"] == '</cigars?page_token=eyJhZnRlciI6MX0&limit=5>; rel="next"'


def test_the_last_page_has_no_link(lua: Any) -> None:
    result = exchange(lua, "GET", "/cigars/?limit=5", body='{"cigars":[{"id":1}],"next_page_token":""}')
    assert "link" not in result["headers"] and result["body"] == '[{"id":1}]'


def test_etag_is_strong_and_changes_with_the_body(lua: Any) -> None:
    one = exchange(lua, "GET", "/cigars/7", body='{"id":7,"rating":4}')["headers"]["etag"]
    same = exchange(lua, "GET", "/cigars/7", body='{"id":7,"rating":4}')["headers"]["etag"]
    other = exchange(lua, "GET", "/cigars/7", body='{"id":7,"rating":5}')["headers"]["etag"]
    assert one == same != other and one.startswith('"') and one.endswith('"')


@pytest.mark.parametrize("sent", ["{etag}", "W/{etag}", '"other", {etag}', "*"])
def test_a_matching_if_none_match_is_304_without_a_body(lua: Any, sent: str) -> None:
    etag = exchange(lua, "GET", "/users/me/", body='{"id":1,"cigars":[]}')["headers"]["etag"]
    headers = {"if-none-match": sent.format(etag=etag)}
    result = exchange(lua, "GET", "/users/me/", request_headers=headers, body='{"id":1,"cigars":[]}')
    assert (result["status"], result["body"], result["headers"]["etag"]) == ("304", "", etag)
    assert result["headers"]["cache-control"] == "private, no-cache, no-transform"  # the compressors skip it
    assert "content-type" not in result["headers"]


def test_a_stale_if_none_match_gets_the_body(lua: Any) -> None:
    result = exchange(lua, "GET", "/users/me/", request_headers={"if-none-match": '"0-0"'}, body='{"id":1}')
    assert (result["status"], result["body"]) == ("200", '{"id":1}')


def test_a_body_the_compressor_will_take_carries_a_weak_etag(lua: Any) -> None:
    big = '{"id":1,"name":"' + "x" * 300 + '"}'
    gzip = {"accept-encoding": "gzip, deflate, br"}
    assert exchange(lua, "GET", "/cigars/1", request_headers=gzip, body=big)["headers"]["etag"].startswith('W/"')
    assert exchange(lua, "GET", "/cigars/1", body=big)["headers"]["etag"].startswith('"')
    assert exchange(lua, "GET", "/cigars/1", request_headers=gzip, body='{"id":1}')["headers"]["etag"][0] == '"'


def test_the_micro_cache_lifetime_goes_on_the_public_list_only(lua: Any) -> None:
    on = {"fallback": True, "shared_max_age": "1"}
    token = {"authorization": "Bearer x"}  # not kept: the other tests ask for /cigars/ too
    listed = exchange(lua, "GET", "/cigars/", request_headers=token, body=PAGE, route_meta=on)["headers"][
        "cache-control"
    ]
    own = exchange(lua, "GET", "/users/me/", body="{}", route_meta=on)["headers"]["cache-control"]
    assert (listed, own) == ("public, max-age=1, s-maxage=1", "private, no-cache")


def test_a_201_says_where_the_new_resource_is(lua: Any) -> None:
    result = exchange(lua, "POST", "/cigars/", request_body="{}", body='{"id":42,"name":"n","owner_id":3}')
    assert (result["status"], result["headers"]["location"]) == ("201", "/cigars/42")


@pytest.mark.parametrize(
    ("message", "field", "words"),
    [
        ('rating: invalid value \\"five\\" for type TYPE_INT32', "rating", "whole number"),
        ("cigar.rating: invalid value true for type TYPE_INT32", "cigar.rating", "whole number"),
        ("name: invalid value 5 for type TYPE_STRING", "name", "string"),
    ],
)
def test_transcoder_parse_errors_name_the_field_and_type_in_words(
    lua: Any, message: str, field: str, words: str
) -> None:
    result = exchange(lua, "POST", "/cigars/", status="400", body='{"detail":"' + message + '"}\n')
    body = json.loads(result["body"])
    assert body["error"] == "invalid_request" and words in body["detail"] and "TYPE_" not in body["detail"]
    assert body["details"][0]["field_violations"][0]["field"] == field


@pytest.mark.parametrize(
    ("path", "service"),
    [("/cigars/", "collection service"), ("/users/me/", "auth service"), ("/token", "auth service")],
)
def test_a_503_of_envoy_names_the_service_in_words(lua: Any, path: str, service: str) -> None:
    raw = '{"detail":"upstream connect error or disconnect/reset before headers. reset reason: connection failure"}'
    method = "POST" if path == "/token" else "GET"
    body = json.loads(exchange(lua, method, path, status="503", body=raw)["body"])
    assert body["error"] == "unavailable" and service in body["detail"] and "upstream" not in body["detail"]


@pytest.mark.parametrize(
    ("status", "error"), [("404", "not_found"), ("413", "payload_too_large"), ("403", "forbidden")]
)
def test_every_error_carries_error_and_detail(lua: Any, status: str, error: str) -> None:
    reason_less = '{"code":7,"message":"not yours","details":[]}' if status == "403" else '{"detail":"Not Found"}'
    body = json.loads(exchange(lua, "GET", "/cigars/7", status=status, body=reason_less)["body"])
    assert body["error"] == error and body["detail"]


def test_plain_options_is_answered_by_the_shim(lua: Any) -> None:
    assert exchange(lua, "OPTIONS", "/cigars/")["status"] == "204"


def test_grpc_calls_on_the_rest_port_pass_through_with_their_status(lua: Any) -> None:
    # A trailers-only gRPC error carries grpc-status in the headers: removing it left the client with UNKNOWN.
    headers = {"content-type": "application/grpc", "authorization": "Bearer x", "grpc-timeout": "5S"}
    req = {":method": "POST", ":path": "/cigar.collection.v1.CollectionService/GetCigar", **headers}
    resp = {":status": "200", "content-type": "application/grpc", "grpc-status": "5", "grpc-message": "not found"}
    result = dict(lua.globals().exchange(lua.table_from(req), "\x00\x00\x00\x00\x00", lua.table_from(resp), ""))
    out = dict(result["headers"])
    assert (out["grpc-status"], out["grpc-message"], result["status"]) == ("5", "not found", "200")
    assert result["request_body"] == "\x00\x00\x00\x00\x00" and "www-authenticate" not in out


def test_the_micro_cache_answers_a_kept_page_and_its_304_itself(lua: Any) -> None:
    on = {"fallback": True, "shared_max_age": "5"}
    path = "/cigars/?q=kept-in-the-shim"
    miss = exchange(lua, "GET", path, body=PAGE, route_meta=on)
    hit = exchange(lua, "GET", path, body='{"cigars":[],"next_page_token":""}', route_meta=on)
    assert hit["answered_by_lua"] and (hit["status"], hit["body"]) == ("200", miss["body"])
    assert {k: hit["headers"][k] for k in ("etag", "link", "cache-control")} == {
        k: miss["headers"][k] for k in ("etag", "link", "cache-control")
    }
    conditional = exchange(lua, "GET", path, request_headers={"if-none-match": miss["headers"]["etag"]}, route_meta=on)
    assert conditional["answered_by_lua"] and (conditional["status"], conditional["body"]) == ("304", "")
    with_token = exchange(lua, "GET", path, request_headers={"authorization": "Bearer x"}, body=PAGE, route_meta=on)
    assert not with_token.get("answered_by_lua")  # a request with a token goes to the service
    off = exchange(lua, "GET", "/cigars/?q=not-kept", body=PAGE)
    assert not exchange(lua, "GET", "/cigars/?q=not-kept", body=PAGE).get("answered_by_lua") and off["status"] == "200"
