"""The (cigar.rest.v1.route) option of a new RPC reaches both the document and the Lua table, and an option the
gateway could not honour fails `make protos` instead of answering differently from the document."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import grpc_tools
import pytest
from google.protobuf import descriptor_pb2
from grpc_tools import protoc
from lupa import luajit21

from scripts.openapi_gen import Generator
from scripts.rest_routes import RouteError, lua_pattern, lua_source, routes

ROOT = Path(__file__).resolve().parents[2]
HEAD = """
syntax = "proto3";
package demo.v1;
import "cigar/rest/v1/rest.proto";
import "google/api/annotations.proto";
import "google/api/httpbody.proto";
import "google/protobuf/empty.proto";
"""
PROTO = (
    HEAD
    + """
service ThingService {
  // Adds a thing.
  rpc CreateThing(Thing) returns (Thing) {
    option (google.api.http) = {post: "/things" body: "*"};
    option (cigar.rest.v1.route) = {auth: AUTH_BEARER success_status: 201 trailing_slash: true error_statuses: 409};
  }
  // Lists things.
  rpc ListThings(google.protobuf.Empty) returns (ListThingsResponse) {
    option (google.api.http) = {get: "/things"};
    option (cigar.rest.v1.route) = {auth: AUTH_NONE bare_array_field: "things"};
  }
  // Reads a thing.
  rpc GetThing(GetThingRequest) returns (Thing) {
    option (google.api.http) = {get: "/things/{id}"};
    option (cigar.rest.v1.route) = {auth: AUTH_NONE};
  }
  // Reads the special thing.
  rpc GetSpecial(google.protobuf.Empty) returns (Thing) {
    option (google.api.http) = {get: "/things/special"};
    option (cigar.rest.v1.route) = {
      auth: AUTH_NONE
      response_headers: {name: "X-Special" value: "yes" description: "Always `yes`."}
    };
  }
  // Forgets a thing.
  rpc ForgetThing(GetThingRequest) returns (google.protobuf.Empty) {
    option (google.api.http) = {
      delete: "/things/{id}"
      additional_bindings {post: "/things/{id}/forget"}
    };
    option (cigar.rest.v1.route) = {auth: AUTH_BEARER success_status: 204};
  }
  // Logs in with a form.
  rpc Login(LoginRequest) returns (Thing) {
    option (google.api.http) = {post: "/login" body: "*"};
    option (cigar.rest.v1.route) = {auth: AUTH_NONE form_body: true};
  }
  // Downloads the things.
  rpc Download(google.protobuf.Empty) returns (stream google.api.HttpBody) {
    option (google.api.http) = {get: "/things.csv"};
    option (cigar.rest.v1.route) = {auth: AUTH_BEARER response_media_types: ["text/csv", "application/x-ndjson"]};
  }
  // Uploads things.
  rpc Upload(stream UploadRequest) returns (Thing) {
    option (google.api.http) = {post: "/things/upload" body: "file"};
    option (cigar.rest.v1.route) = {auth: AUTH_BEARER request_media_types: "text/csv"};
  }
}

message Thing {
  int32 id = 1;
  string label = 2;
}
message GetThingRequest { int32 id = 1; }
message ListThingsResponse {
  repeated Thing things = 1;
  string next_page_token = 2;
}
message LoginRequest {
  string user = 1;
  string secret = 2;
}
message UploadRequest { google.api.HttpBody file = 1; }
"""
)


def descriptors(tmp_path: Path, proto: str) -> descriptor_pb2.FileDescriptorSet:
    (tmp_path / "demo.proto").write_text(proto)
    out = tmp_path / "demo.binpb"
    well_known = Path(grpc_tools.__file__).parent / "_proto"
    args = ["protoc", f"-I{tmp_path}", f"-I{ROOT / 'protos'}", f"-I{ROOT / 'third_party' / 'googleapis'}",
            f"-I{well_known}", "--include_imports", "--include_source_info", f"--descriptor_set_out={out}",
            "demo.proto"]  # fmt: skip
    assert protoc.main(args) == 0
    return descriptor_pb2.FileDescriptorSet.FromString(out.read_bytes())


def test_the_document_follows_the_option(tmp_path: Path) -> None:
    doc = Generator(descriptors(tmp_path, PROTO)).document()
    create = doc["paths"]["/things/"]["post"]
    assert set(create["responses"]) == {"201", "400", "401", "409", "413", "503"} and create["security"]
    listed = doc["paths"]["/things"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert listed == {"type": "array", "items": {"$ref": "#/components/schemas/Thing"}}
    special = doc["paths"]["/things/special"]["get"]["responses"]["200"]["headers"]
    assert special == {
        "X-Special": {"description": "Always `yes`.", "required": True, "schema": {"type": "string", "const": "yes"}}
    }
    forget = doc["paths"]["/things/{id}/forget"]["post"]
    assert forget["operationId"] == "ForgetThing1" and "content" not in forget["responses"]["204"]
    login = doc["paths"]["/login"]["post"]["requestBody"]["content"]
    assert list(login) == ["application/x-www-form-urlencoded", "application/json"]
    download = doc["paths"]["/things.csv"]["get"]["responses"]["200"]["content"]
    assert download == {t: {"schema": {"type": "string"}} for t in ("text/csv", "application/x-ndjson")}
    upload = doc["paths"]["/things/upload"]["post"]["requestBody"]["content"]
    assert upload == {"text/csv": {"schema": {"type": "string"}}}


def load_shim(tmp_path: Path, fds: descriptor_pb2.FileDescriptorSet) -> Any:
    (tmp_path / "rest_routes.lua").write_text(lua_source(fds))
    lua = luajit21.LuaRuntime()
    lua.execute(f'package.path = "{tmp_path}/?.lua;" .. package.path')
    lua.execute((ROOT / "gateway" / "rest_compat.lua").read_text())
    # the route the shim picks for a request, through the same metadata it keeps for the response
    lua.execute("""
      function route_of_request(method, path)
        local meta = {}
        local headers = setmetatable({[":method"] = method, [":path"] = path}, {__index = {
          get = function(self, k) return rawget(self, k) end, remove = function() end }})
        envoy_on_request({
          headers = function() return headers end,
          metadata = function() return { get = function() return nil end } end,
          streamInfo = function() return { dynamicMetadata = function() return {
            set = function(_, ns, k, v) meta[k] = v end } end } end,
        })
        return meta["rpc"]
      end
    """)
    return lua.globals().route_of_request


def test_the_lua_table_follows_the_option_and_literal_segments_win(tmp_path: Path) -> None:
    route_of = load_shim(tmp_path, descriptors(tmp_path, PROTO))
    assert route_of("GET", "/things/special/") == "demo.v1.ThingService.GetSpecial"
    assert route_of("GET", "/things/specials") == "demo.v1.ThingService.GetThing"
    assert route_of("GET", "/things/7?x=/special") == "demo.v1.ThingService.GetThing"
    assert route_of("POST", "/things/7/forget//") == "demo.v1.ThingService.ForgetThing"
    assert route_of("DELETE", "/things/7") == "demo.v1.ThingService.ForgetThing"
    assert route_of("PUT", "/things/7") == ""
    table = lua_source(descriptors(tmp_path, PROTO))
    assert 'form_fields = {\n      "user",\n      "secret",\n    }' in table


def test_routes_list_every_binding(tmp_path: Path) -> None:
    found = [(r.verb, r.template, r.rest.status) for r in routes(descriptors(tmp_path, PROTO))]
    assert ("post", "/things/{id}/forget", 204) in found and ("delete", "/things/{id}", 204) in found
    assert len(found) == 9


RPC = """
service S {
  rpc M(%s) returns (%s) {
    %s
    option (cigar.rest.v1.route) = {%s};
  }
}
message Req { int32 n = 1; string s = 2; }
message Resp { string a = 1; repeated Req items = 2; }
"""


@pytest.mark.parametrize(
    ("request_type", "response_type", "option", "error"),
    [
        ("Req", "Resp", "success_status: 201", "must say `auth: AUTH_NONE` or `auth: AUTH_BEARER`"),
        ("Req", "Resp", "auth: AUTH_NONE success_status: 302", "success_status 302"),
        ("Req", "Resp", "auth: AUTH_NONE success_status: 204", "has fields"),
        ("Req", "Resp", 'auth: AUTH_NONE bare_array_field: "items"', "not the first field"),
        ("Req", "Resp", 'auth: AUTH_NONE bare_array_field: "a"', "not a repeated field"),
        ("Req", "Resp", "auth: AUTH_NONE form_body: true", "string fields only"),
        ("Req", "Resp", "auth: AUTH_NONE error_statuses: 200", "4xx or 5xx"),
        ("Req", "Resp", 'auth: AUTH_NONE response_headers: {name: "X Y" value: "1"}', "a response header"),
        ("Req", "google.api.HttpBody", "auth: AUTH_NONE", "response_media_types go with"),
        ("Req", "Resp", 'auth: AUTH_NONE response_media_types: "text/csv"', "response_media_types go with"),
        ("Req", "stream Resp", "auth: AUTH_NONE", "must return google.api.HttpBody"),
        ("Req", "Resp", 'auth: AUTH_NONE request_media_types: "text/csv"', "request_media_types go with"),
        ("stream Req", "Resp", "auth: AUTH_NONE", "must take a google.api.HttpBody body field"),
        ("Req", "Resp", 'auth: AUTH_NONE location: "/m/{a}"', "location is a path .* of a 201"),
        ("Req", "Resp", 'auth: AUTH_NONE success_status: 201 location: "/m/{items}"', "not a scalar field"),
        ("Req", "Resp", 'auth: AUTH_NONE success_status: 201 location: "/m/{nope}"', "not a scalar field"),
        ("Req", "Resp", "auth: AUTH_NONE success_status: 201 etag: true", "etag needs a unary JSON response"),
        (
            "Req",
            "stream google.api.HttpBody",
            'auth: AUTH_NONE etag: true response_media_types: "text/csv"',
            "etag needs a unary JSON response",
        ),
    ],
)
def test_an_option_the_gateway_cannot_honour_fails_generation(
    tmp_path: Path, request_type: str, response_type: str, option: str, error: str
) -> None:
    rule = 'option (google.api.http) = {post: "/m" body: "*"};'
    fds = descriptors(tmp_path, HEAD + RPC % (request_type, response_type, rule, option))
    with pytest.raises(RouteError, match=error):
        Generator(fds).document()
    with pytest.raises(RouteError, match=error):
        lua_source(fds)


def test_an_option_without_an_http_rule_fails_generation(tmp_path: Path) -> None:
    fds = descriptors(tmp_path, HEAD + RPC % ("Req", "Resp", "", "auth: AUTH_NONE"))
    with pytest.raises(RouteError, match="without a google.api.http rule"):
        lua_source(fds)


@pytest.mark.parametrize(
    ("template", "pattern"),
    [
        ("/", "^$"),
        ("/cigars", "^/cigars$"),
        ("/cigars/{id}", "^/cigars/[^/]*$"),
        ("/.well-known/jwks.json", "^/%.well%-known/jwks%.json$"),
        ("/v1/{name=shelves/*}/books", "^/v1/shelves/[^/]*/books$"),
    ],
)
def test_lua_patterns_of_path_templates(template: str, pattern: str) -> None:
    assert lua_pattern(template) == pattern


@pytest.mark.parametrize("template", ["/files/{path=**}", "/things/{id}:archive", "cigars"])
def test_templates_the_matcher_does_not_support_fail_generation(template: str) -> None:
    with pytest.raises(RouteError):
        lua_pattern(template)
