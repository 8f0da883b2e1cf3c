"""The generated OpenAPI document is valid OpenAPI 3.1 and covers every google.api.http rule of the protos, each
rule with its (cigar.rest.v1.route) option."""

from __future__ import annotations

import json
from pathlib import Path

from google.api import annotations_pb2
from google.protobuf import descriptor_pb2
from openapi_spec_validator import validate

from scripts.openapi_rest import EXAMPLES, NO_LIVE_EXAMPLE
from scripts.rest_routes import RouteOptions

ROOT = Path(__file__).resolve().parent.parent
DOC = json.loads((ROOT / "gateway" / "generated" / "openapi.json").read_text())
DESCRIPTORS = descriptor_pb2.FileDescriptorSet.FromString(
    (ROOT / "gateway" / "generated" / "api_descriptor.binpb").read_bytes()
)


def http_methods() -> dict[str, descriptor_pb2.MethodDescriptorProto]:
    return {
        f"{f.package}.{s.name}.{m.name}": m
        for f in DESCRIPTORS.file
        if f.package.startswith("cigar.")
        for s in f.service
        for m in s.method
        if m.options.HasExtension(annotations_pb2.http)
    }


def operation_ids() -> set[str]:
    return {op["operationId"] for item in DOC["paths"].values() for op in item.values()}


def test_the_document_is_valid_openapi_3_1() -> None:
    validate(DOC)
    assert DOC["openapi"] == "3.1.0"


def test_every_http_rule_of_the_protos_has_an_operation_and_nothing_else_does() -> None:
    assert {name.rsplit(".", 1)[1] for name in http_methods()} == operation_ids()


def test_every_http_rule_says_how_the_gateway_serves_it() -> None:
    """Our protos annotate every REST RPC, public ones too: whether it needs a token is never left implicit."""
    options = RouteOptions(DESCRIPTORS)
    unannotated = [name for name, method in http_methods().items() if options.option(method) is None]
    assert unannotated == [], "add `option (cigar.rest.v1.route) = {auth: ...}` to these RPCs"


def test_every_example_and_test_policy_names_something_that_exists() -> None:
    assert set(NO_LIVE_EXAMPLE) <= set(http_methods()), "NO_LIVE_EXAMPLE names a method without an http rule"
    messages = {m.name for f in DESCRIPTORS.file for m in f.message_type}
    assert set(EXAMPLES) <= messages


def test_the_document_says_how_the_gateway_really_answers() -> None:
    paths = DOC["paths"]
    assert "application/x-www-form-urlencoded" in paths["/token"]["post"]["requestBody"]["content"]
    assert set(paths["/users/"]["post"]["responses"]) >= {"201", "400", "409"}
    assert "201" in paths["/cigars/"]["post"]["responses"]
    listed = paths["/cigars/"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert listed["type"] == "array" and listed["items"] == {"$ref": "#/components/schemas/Cigar"}
    limit = next(p for p in paths["/cigars/"]["get"]["parameters"] if p["name"] == "limit")
    assert (limit["schema"]["minimum"], limit["schema"]["maximum"], limit["schema"]["default"]) == (1, 100, 10)
    assert paths["/users/me/"]["get"]["security"] and "401" in paths["/users/me/"]["get"]["responses"]
    assert "security" not in paths["/cigars/"]["get"]
    assert DOC["components"]["schemas"]["Error"]["required"] == ["error", "error_description", "detail"]
    assert DOC["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"


def test_each_error_status_has_an_example_of_its_own_that_the_error_schema_accepts() -> None:
    from jsonschema import Draft202012Validator

    error = Draft202012Validator({"$ref": "#/components/schemas/Error", "components": DOC["components"]})
    examples: dict[str, dict] = {}
    for item in DOC["paths"].values():
        for op in item.values():
            for status, response in op["responses"].items():
                if status.startswith(("4", "5")):
                    example = response["content"]["application/json"]["example"]
                    error.validate(example)
                    assert examples.setdefault(status, example) == example  # one per status, the same everywhere
    assert set(examples) >= {"400", "401", "404", "409", "413", "429", "503"}
    assert len({json.dumps(e, sort_keys=True) for e in examples.values()}) == len(examples)  # no shared example
    for status in ("401", "503"):
        assert "field_violations" not in json.dumps(examples[status])  # not a rating violation
    assert {s["$ref"].rsplit("/", 1)[1] for s in DOC["components"]["schemas"]["Error"]["properties"]["details"][
        "items"]["oneOf"]} == {"ErrorInfo", "BadRequest", "RetryInfo"}  # fmt: skip
