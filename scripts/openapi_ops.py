"""One OpenAPI operation per google.api.http rule (and additional binding), shaped by its route option."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from google.api import field_behavior_pb2
from google.protobuf import descriptor_pb2

from scripts.openapi_rest import EXAMPLES, NO_LIVE_EXAMPLE, error_response, error_statuses
from scripts.rest_routes import EMPTY, HTTP_BODY, Rest, bindings

if TYPE_CHECKING:
    from scripts.openapi_gen import Generator

BEARER: list[dict[str, list[str]]] = [{"OAuth2PasswordBearer": []}, {"bearerAuth": []}]
FD = descriptor_pb2.FieldDescriptorProto


def summary_of(comment: str) -> str:
    first = re.split(r"(?<=\.)\s", comment.replace("\n", " "), maxsplit=1)[0]
    return first.rstrip(".")


def operations(gen: Generator, service: str, desc: descriptor_pb2.ServiceDescriptorProto) -> Iterator[tuple]:
    for method in desc.method:
        full = f"{service}.{method.name}"[1:]
        rest = gen.route_options.rest(full, method)
        for i, (verb, template, body) in enumerate(bindings(method)):
            path = re.sub(r"\{([^}=]+)=[^}]*\}", r"{\1}", template)
            if rest.trailing_slash and not path.endswith("/"):
                path += "/"
            op = operation(gen, full, method, rest, path, body)
            op["operationId"] = method.name if i == 0 else f"{method.name}{i}"
            op["tags"] = [desc.name]
            yield path, verb, op


def operation(
    gen: Generator, full: str, method: descriptor_pb2.MethodDescriptorProto, rest: Rest, path: str, body: str
) -> dict[str, Any]:
    comment = gen.comments.get(f".{full}", "")
    request = gen.messages[method.input_type]
    path_fields = set(re.findall(r"\{([^}]+)\}", path))
    top_level = {p.split(".")[0] for p in path_fields}
    params: list[dict[str, Any]] = [
        {"name": p, "in": "path", "required": True, "schema": path_param_schema(gen, method.input_type, p)}
        for p in sorted(path_fields)
    ]
    if body != "*":
        for f in request.field:
            if f.name in top_level or f.name == body or f.type == FD.TYPE_MESSAGE:
                continue
            schema = gen.field_schema(method.input_type, f)
            param = {"name": f.name, "in": "query", "required": is_required(f), "schema": schema}
            if "description" in schema:
                param["description"] = schema.pop("description")
            params.append(param)
    op: dict[str, Any] = {"summary": summary_of(comment), "description": comment}
    if params:
        op["parameters"] = params
    if body:
        op["requestBody"] = request_body(gen, method.input_type, body, top_level, rest)
    if rest.auth:
        op["security"] = BEARER
    op["responses"] = {str(rest.status): success(gen, method.output_type, rest)}
    if full in NO_LIVE_EXAMPLE:
        op["x-no-live-example"] = NO_LIVE_EXAMPLE[full]  # read by tests/e2e/test_openapi_conformance.py
    has_input = bool(body) or any(p["in"] == "query" for p in params)
    for status in error_statuses(rest, has_input, bool(path_fields), has_body=bool(body)):
        op["responses"][str(status)] = error_response(status)
    return op


def is_required(f: FD) -> bool:
    return field_behavior_pb2.REQUIRED in f.options.Extensions[field_behavior_pb2.field_behavior]


def path_param_schema(gen: Generator, type_name: str, dotted: str) -> dict[str, Any]:
    *parents, last = dotted.split(".")
    for name in parents:
        type_name = next(f.type_name for f in gen.messages[type_name].field if f.name == name)
    schema = gen.field_schema(type_name, next(f for f in gen.messages[type_name].field if f.name == last))
    schema.pop("readOnly", None)
    return schema


def request_body(gen: Generator, type_name: str, body: str, path_fields: set[str], rest: Rest) -> dict[str, Any]:
    if rest.request_media_types:  # a google.api.HttpBody field: the raw body, in one of these types
        text: dict[str, Any] = {"type": "string"}
        if example := EXAMPLES.get(gen.messages[type_name].name):
            text["examples"] = [example]
        return {"required": True, "content": {t: {"schema": text} for t in rest.request_media_types}}
    if body == "*":
        schema = gen.message_schema(type_name, frozenset(path_fields)) if path_fields else gen.ref(type_name)
    else:
        schema = gen.field_schema(type_name, next(f for f in gen.messages[type_name].field if f.name == body))
    content = {"application/json": {"schema": schema}}
    if rest.form:
        # what OAuth2 clients send; rest_compat.lua turns it into the JSON request, which also works
        content = {"application/x-www-form-urlencoded": {"schema": schema}, **content}
    return {"required": True, "content": content}


def success(gen: Generator, output_type: str, rest: Rest) -> dict[str, Any]:
    response: dict[str, Any] = {"description": {200: "OK", 201: "Created", 204: "No Content"}.get(rest.status, "OK")}
    # required: on every such answer; Link is not (absent on the last page)
    headers: dict[str, Any] = {  # rest_compat.lua sets them; a public Cache-Control gains the micro-cache's s-maxage
        name: {
            "description": doc,
            "required": True,
            "schema": {"type": "string", "example" if "public" in value else "const": value},
        }
        for name, value, doc in rest.headers
    }
    if rest.location:
        headers["Location"] = {
            "description": f"The new resource: `{rest.location}`.",
            "required": True,
            "schema": {"type": "string"},
        }
    if rest.etag:
        headers["ETag"] = {
            "description": "A strong validator of the body (`W/` when the gateway compressed it): send it back in "
            "`If-None-Match` for a 304 Not Modified without a body.",
            "required": True,
            "schema": {"type": "string"},
        }
    if rest.bare_array:
        headers["Link"] = {
            "description": 'The next page (RFC 8288): `</cigars/?page_token=...&limit=...>; rel="next"`, same '
            "filters; absent on the last page.",
            "schema": {"type": "string"},
        }
    if headers:
        response["headers"] = headers
    if output_type == EMPTY or rest.status == 204:
        return response
    if output_type == HTTP_BODY:  # raw bytes in the media type the service chooses
        response["content"] = {t: {"schema": {"type": "string"}} for t in rest.response_media_types}
        return response
    if rest.bare_array:
        f = next(f for f in gen.messages[output_type].field if f.name == rest.bare_array)
        schema = gen.field_schema(output_type, f)
        gen.always_printed(f.type_name)
    else:
        schema = gen.ref(output_type)
        gen.always_printed(output_type)
    response["content"] = {"application/json": {"schema": schema}}
    return response
