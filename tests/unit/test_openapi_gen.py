"""The OpenAPI generator documents a new http rule by itself: path and query parameters, body, bounds, errors."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import grpc_tools
from google.protobuf import descriptor_pb2
from grpc_tools import protoc

from scripts.openapi_gen import Generator

ROOT = Path(__file__).resolve().parents[2]
PROTO = """
syntax = "proto3";
package demo.v1;
import "google/api/annotations.proto";
import "google/api/field_behavior.proto";
import "google/protobuf/empty.proto";

// Things.
service ThingService {
  // Reads one thing. More words.
  rpc GetThing(GetThingRequest) returns (Thing) { option (google.api.http) = {get: "/things/{id}"}; }
  // Changes a thing.
  rpc UpdateThing(UpdateThingRequest) returns (Thing) {
    option (google.api.http) = {patch: "/things/{id}" body: "*"};
  }
  // Forgets a thing.
  rpc DeleteThing(GetThingRequest) returns (google.protobuf.Empty) {
    option (google.api.http) = {delete: "/things/{id}"};
  }
  // Not on REST.
  rpc Internal(GetThingRequest) returns (Thing);
}

// A thing.
message Thing {
  int32 id = 1 [(google.api.field_behavior) = OUTPUT_ONLY];
  // 1 to 40 characters.
  string label = 2;
  int64 weight = 3;
  repeated string tags = 4;
}

message GetThingRequest {
  int32 id = 1;
  // How deep to look, 1 to 3. Default 1.
  optional int32 depth = 2;
}

message UpdateThingRequest {
  int32 id = 1;
  // Up to 40 characters.
  string label = 2 [(google.api.field_behavior) = REQUIRED];
}
"""


def document(tmp_path: Path) -> dict[str, Any]:
    (tmp_path / "demo.proto").write_text(PROTO)
    out = tmp_path / "demo.binpb"
    well_known = Path(grpc_tools.__file__).parent / "_proto"
    args = ["protoc", f"-I{tmp_path}", f"-I{ROOT / 'third_party' / 'googleapis'}", f"-I{well_known}",
            "--include_imports", "--include_source_info", f"--descriptor_set_out={out}", "demo.proto"]  # fmt: skip
    assert protoc.main(args) == 0
    return Generator(descriptor_pb2.FileDescriptorSet.FromString(out.read_bytes())).document()


def test_a_new_rule_gets_path_and_query_parameters_with_bounds_and_default_errors(tmp_path: Path) -> None:
    doc = document(tmp_path)
    get = doc["paths"]["/things/{id}"]["get"]
    assert get["operationId"] == "GetThing" and get["summary"] == "Reads one thing"
    path_param, depth = get["parameters"]
    assert path_param == {
        "name": "id",
        "in": "path",
        "required": True,
        "schema": {"type": "integer", "format": "int32"},
    }
    assert depth["in"] == "query" and not depth["required"]
    assert {k: depth["schema"][k] for k in ("minimum", "maximum", "default")} == {
        "minimum": 1,
        "maximum": 3,
        "default": 1,
    }
    assert set(get["responses"]) == {"200", "400", "404", "503"}
    assert "security" not in get


def test_a_body_rule_leaves_path_fields_out_of_the_body_and_empty_answers_have_no_content(tmp_path: Path) -> None:
    doc = document(tmp_path)
    body = doc["paths"]["/things/{id}"]["patch"]["requestBody"]["content"]["application/json"]["schema"]
    assert list(body["properties"]) == ["label"] and body["required"] == ["label"]
    assert body["properties"]["label"]["maxLength"] == 40
    assert "content" not in doc["paths"]["/things/{id}"]["delete"]["responses"]["200"]
    assert "Internal" not in {op["operationId"] for item in doc["paths"].values() for op in item.values()}


def test_response_schemas_require_what_the_gateway_always_prints(tmp_path: Path) -> None:
    thing = document(tmp_path)["components"]["schemas"]["Thing"]
    assert thing["required"] == ["id", "label", "tags", "weight"]
    assert thing["properties"]["weight"] == {"type": "string", "format": "int64"}  # int64 prints as a string
    assert thing["properties"]["id"]["readOnly"] is True
    assert thing["properties"]["label"]["minLength"] == 1
