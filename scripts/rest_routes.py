"""The REST routes of the protos: every google.api.http binding with its (cigar.rest.v1.route) option.

That option (protos/cigar/rest/v1/rest.proto) is the one definition of what the gateway does beyond the
transcoder: success status, bare array, form body, response headers, and what the document says about auth,
trailing slashes and error statuses. `make protos` writes gateway/generated/rest_routes.lua from it for
gateway/rest_compat.lua, and the OpenAPI generator (scripts/openapi_gen.py) reads it from the same
descriptor set.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from google.api import annotations_pb2, http_pb2
from google.protobuf import descriptor_pb2, descriptor_pool, json_format, message_factory

OPTION = "cigar.rest.v1.route"
VERBS = ("get", "put", "post", "delete", "patch")
EMPTY = ".google.protobuf.Empty"
HTTP_BODY = ".google.api.HttpBody"
SUCCESS_STATUSES = (200, 201, 202, 204)
FD = descriptor_pb2.FieldDescriptorProto


@dataclass(frozen=True)
class Rest:
    """One RPC's route option, checked against its messages. The defaults: what the transcoder does alone."""

    status: int = 200  # success status; 204 answers without a body
    auth: bool = False  # needs `Authorization: Bearer <token>`
    form: bool = False  # the body may be application/x-www-form-urlencoded (rest_compat.lua makes it JSON)
    bare_array: str | None = None  # the response is this repeated field, unwrapped to a bare JSON array
    trailing_slash: bool = False  # the contract documents the path with a trailing slash (both forms work)
    errors: tuple[int, ...] = ()  # error statuses besides the automatic ones (see openapi_rest.error_statuses)
    headers: tuple[tuple[str, str, str], ...] = ()  # response headers set on every answer: (name, value, doc)
    form_fields: tuple[str, ...] = ()  # with form: the request's fields, the form keys rest_compat.lua keeps
    response_media_types: tuple[str, ...] = ()  # an HttpBody response: what the service answers, default first
    request_media_types: tuple[str, ...] = ()  # an HttpBody body field: what the service accepts
    location: str = ""  # a 201's Location: a path template filled from the response's top-level scalar fields
    etag: bool = False  # ETag on 200s, 304 on a matching If-None-Match, HEAD served as GET


@dataclass(frozen=True)
class Route:
    """One google.api.http binding of an RPC."""

    rpc: str  # full method name, e.g. cigar.auth.v1.AuthService.Token
    verb: str  # lower case, e.g. "post"
    template: str  # the http rule's path template, e.g. /cigars/{id}
    body: str  # the http rule's body: "", "*" or a field name
    rest: Rest
    request: str = ""  # the request message's full name, e.g. .cigar.auth.v1.TokenRequest


class RouteError(ValueError):
    """A route option that the gateway could not honour as written."""


def bindings(method: descriptor_pb2.MethodDescriptorProto) -> list[tuple[str, str, str]]:
    """(verb, path template, body) of the method's http rule and its additional bindings."""
    if not method.options.HasExtension(annotations_pb2.http):
        return []
    rule: http_pb2.HttpRule = method.options.Extensions[annotations_pb2.http]
    found = []
    for r in (rule, *rule.additional_bindings):
        kind = r.WhichOneof("pattern")
        if kind in VERBS:
            found.append((kind, getattr(r, kind), r.body))
        elif kind == "custom":
            found.append((r.custom.kind.lower(), r.custom.path, r.body))
    return found


class RouteOptions:
    """Reads the route option of each method of a descriptor set, through a pool built from that set alone,
    so that what counts is the protos being generated, not whichever rest_pb2 happens to be installed."""

    def __init__(self, fds: descriptor_pb2.FileDescriptorSet) -> None:
        self.messages: dict[str, descriptor_pb2.DescriptorProto] = {}
        for f in fds.file:
            self._index(f.message_type, f".{f.package}")
        pool = descriptor_pool.DescriptorPool()
        for f in fds.file:
            pool.Add(f)
        self.extension: Any = None  # the option's FieldDescriptor, an extension of MethodOptions
        try:
            self.extension = pool.FindExtensionByName(OPTION)
        except KeyError:  # protos that do not import rest.proto: no route has an option
            self.extension = None
            return
        classes = message_factory.GetMessageClassesForFiles([f.name for f in fds.file], pool)
        self.method_options = classes["google.protobuf.MethodOptions"]

    def _index(self, messages: Any, prefix: str) -> None:
        for m in messages:
            self.messages[f"{prefix}.{m.name}"] = m
            self._index(m.nested_type, f"{prefix}.{m.name}")

    def option(self, method: descriptor_pb2.MethodDescriptorProto) -> dict[str, Any] | None:
        """The method's option as a dict of proto field names (None when the method has none)."""
        if self.extension is None:
            return None
        options = self.method_options.FromString(method.options.SerializeToString())
        if not options.HasExtension(self.extension):
            return None
        return json_format.MessageToDict(options.Extensions[self.extension], preserving_proto_field_name=True)

    def rest(self, full: str, method: descriptor_pb2.MethodDescriptorProto) -> Rest:
        """The checked route option of a method with an http rule: RouteError when it cannot be honoured."""
        option = self.option(method)
        if option is None:
            return Rest()
        where = f"{full}: ({OPTION})"
        if option.get("auth", "AUTH_UNSPECIFIED") == "AUTH_UNSPECIFIED":
            raise RouteError(f"{where} must say `auth: AUTH_NONE` or `auth: AUTH_BEARER`")
        status = option.get("success_status") or 200
        if status not in SUCCESS_STATUSES:
            raise RouteError(f"{where} success_status {status} is not one of {SUCCESS_STATUSES}")
        response = self.messages[method.output_type]
        if status == 204 and response.field:
            raise RouteError(f"{where} 204 drops the body, but {method.output_type[1:]} has fields")
        bare_array = option.get("bare_array_field") or None
        if bare_array is not None:
            first = min(response.field, key=lambda f: f.number, default=None)
            if first is None or first.name != bare_array or response.field[0].name != bare_array:
                raise RouteError(f"{where} bare_array_field {bare_array!r} is not the first field of the response")
            if first.label != FD.LABEL_REPEATED or status == 204:
                raise RouteError(f"{where} bare_array_field {bare_array!r} is not a repeated field of a body")
        form_fields: tuple[str, ...] = ()
        if option.get("form_body"):
            request = self.messages[method.input_type]
            if any(f.type != FD.TYPE_STRING or f.label == FD.LABEL_REPEATED for f in request.field):
                raise RouteError(f"{where} form_body needs a request of string fields only")
            form_fields = tuple(f.name for f in request.field)
        errors = tuple(sorted(set(option.get("error_statuses", []))))
        if any(not 400 <= s <= 599 for s in errors):
            raise RouteError(f"{where} error_statuses {errors} are not all 4xx or 5xx")
        headers = tuple((h["name"], h.get("value", ""), h.get("description", "")) for h in option.get(
            "response_headers", []))  # fmt: skip
        if any(not re.fullmatch(r"[A-Za-z0-9-]+", name) or not value for name, value, _ in headers):
            raise RouteError(f"{where} a response header needs a name (letters, digits, '-') and a value")
        response_types, request_types = self._media_types(where, method, option)
        location = option.get("location", "")
        if location:
            self._check_location(where, location, status, response)
        etag = bool(option.get("etag"))
        if etag and (method.server_streaming or method.output_type == HTTP_BODY or status != 200):
            raise RouteError(f"{where} etag needs a unary JSON response answered 200")
        return Rest(
            status=status,
            auth=option["auth"] == "AUTH_BEARER",
            form=bool(option.get("form_body")),
            bare_array=bare_array,
            trailing_slash=bool(option.get("trailing_slash")),
            errors=errors,
            headers=headers,
            form_fields=form_fields,
            response_media_types=response_types,
            request_media_types=request_types,
            location=location,
            etag=etag,
        )

    @staticmethod
    def _check_location(where: str, location: str, status: int, response: descriptor_pb2.DescriptorProto) -> None:
        """rest_compat.lua fills each {field} with the first `"field":<value>` of the JSON body: the field must be
        a scalar printed before any nested message (fields print in declaration order)."""
        if status != 201 or not location.startswith("/"):
            raise RouteError(f"{where} location is a path (starting with '/') of a 201 response")
        nested_from = next((i for i, f in enumerate(response.field) if f.type == FD.TYPE_MESSAGE), len(response.field))
        scalars = {f.name for f in response.field[:nested_from] if f.label != FD.LABEL_REPEATED}
        for name in re.findall(r"\{([^}]*)\}", location):
            if name not in scalars:
                raise RouteError(f"{where} location's {{{name}}} is not a scalar field before any nested message")

    def _media_types(
        self, where: str, method: descriptor_pb2.MethodDescriptorProto, option: dict[str, Any]
    ) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """An HttpBody response or body field must say its media types, and only those may; the transcoder
        streams nothing but HttpBody (it would print a stream of JSON messages as one JSON array)."""
        response_types = tuple(option.get("response_media_types", []))
        request_types = tuple(option.get("request_media_types", []))
        if (method.output_type == HTTP_BODY) != bool(response_types):
            raise RouteError(f"{where} response_media_types go with a google.api.HttpBody response, and only there")
        if method.server_streaming and method.output_type != HTTP_BODY:
            raise RouteError(f"{where} a server-streaming REST route must return google.api.HttpBody")
        bodies = {body for _, _, body in bindings(method)}
        request = self.messages[method.input_type]
        http_body = any(f.name in bodies and f.type_name == HTTP_BODY for f in request.field)
        if http_body != bool(request_types):
            raise RouteError(f"{where} request_media_types go with a google.api.HttpBody body field, and only there")
        if method.client_streaming and not http_body:
            raise RouteError(f"{where} a client-streaming REST route must take a google.api.HttpBody body field")
        return response_types, request_types


def routes(fds: descriptor_pb2.FileDescriptorSet) -> list[Route]:
    """Every http binding of every service in the set, in declaration order."""
    options = RouteOptions(fds)
    found = []
    for f in fds.file:
        for s in f.service:
            for method in s.method:
                full = f"{f.package}.{s.name}.{method.name}"
                found_bindings = bindings(method)
                if not found_bindings:
                    if options.option(method) is not None:
                        raise RouteError(f"{full}: ({OPTION}) without a google.api.http rule")
                    continue
                rest = options.rest(full, method)
                found += [
                    Route(full, verb, template, body, rest, method.input_type)
                    for verb, template, body in found_bindings
                ]
    return found


def segments(template: str) -> list[str]:
    """The path segments a template matches, variables expanded: "/shelves/{s=a/*}/b" -> [shelves, a, *, b]."""
    if not template.startswith("/"):
        raise RouteError(f"path template {template!r} does not start with '/'")
    parts, depth, current = [], 0, ""
    for c in template[1:]:
        depth += {"{": 1, "}": -1}.get(c, 0)
        if c == "/" and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += c
    parts.append(current)
    found: list[str] = []
    for part in parts:
        if m := re.fullmatch(r"\{[\w.]+(?:=([^}]*))?\}", part):
            found += (m[1] or "*").split("/")
        elif re.search(r"[{}:]", part):
            raise RouteError(f"path template {template!r}: custom verbs and partial variables are not supported")
        else:
            found.append(part)
    return [] if found == [""] else found


def lua_pattern(template: str) -> str:
    """A Lua pattern matching the request paths the transcoder maps to the template, once the query string and
    trailing slashes are stripped (as the transcoder does): a `*` segment is any segment, even an empty one."""
    pattern = "^"
    for segment in segments(template):
        if segment == "**":
            raise RouteError(f"path template {template!r}: '**' is not supported by rest_compat.lua's matcher")
        pattern += "/" + ("[^/]*" if segment == "*" else re.sub(r"([\^$()%.\[\]*+\-?])", r"%\1", segment))
    return pattern + "$"


def specificity(template: str) -> list[int]:
    """Sort key: at the first segment where two templates differ, a literal wins over a variable."""
    return [1 if s == "*" else 0 for s in segments(template)]


def path_fields(template: str) -> list[str]:
    """The request fields a path template binds (their top-level names): "/cigars/{id}" -> ["id"]."""
    return [name.split(".")[0] for name in re.findall(r"\{([\w.]+)", template)]


def json_name(field: str) -> str:
    first, *rest = field.split("_")
    return first + "".join(part.capitalize() for part in rest)


def not_in_query(route: Route, request: descriptor_pb2.DescriptorProto) -> list[str]:
    """The query parameters rest_compat.lua refuses on this route: the fields the path or the body carry. The
    transcoder would otherwise take them from the query too, so that a path id could be overridden
    (DELETE /cigars/1?id=2) and credentials would travel in the URL, which access logs and caches keep."""
    in_path = path_fields(route.template)
    if route.body == "*" or route.rest.form:
        in_body = [f.name for f in request.field if f.name not in in_path]
    else:
        in_body = [route.body] if route.body else []
    names = [*in_path, *in_body]
    return sorted({*names, *(json_name(n) for n in names)})


def _lua_key(key: str) -> str:
    return key if re.fullmatch(r"[A-Za-z_]\w*", key) else f"[{_lua(key)}]"


def _lua(value: Any, indent: str = "") -> str:
    """A Lua literal: str, bool, int, list (sequence) or dict (string keys, written in the given order)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return '"' + "".join(c if c.isprintable() and c not in '"\\' else f"\\{ord(c)}" for c in value) + '"'
    inner = indent + "  "
    if isinstance(value, list):
        items = [f"{inner}{_lua(v, inner)}," for v in value]
    else:
        items = [f"{inner}{_lua_key(k)} = {_lua(v, inner)}," for k, v in value.items()]
    return "{}" if not items else "{\n" + "\n".join(items) + "\n" + indent + "}"


LUA_HEADER = """\
-- Generated by `make protos` (scripts/gen_protos.py) from the (cigar.rest.v1.route) options of protos/:
-- do not edit. gateway/rest_compat.lua loads it (the Lua filter's package_paths in gateway/envoy.yaml.tmpl)
-- and matches each request against `pattern` (query string and trailing slashes stripped), trying the
-- routes in this order; /openapi.json documents the same options (tests/unit/test_rest_routes.py checks).
"""


def lua_source(fds: descriptor_pb2.FileDescriptorSet) -> str:
    """gateway/generated/rest_routes.lua: a Lua chunk returning the routes, most specific first per method."""
    entries = []
    found = routes(fds)
    messages = RouteOptions(fds).messages
    order = sorted(range(len(found)), key=lambda i: (found[i].verb, specificity(found[i].template), i))
    for route in (found[i] for i in order):
        entry: dict[str, Any] = {
            "rpc": route.rpc,
            "method": route.verb.upper(),
            "path": route.template,
            "pattern": lua_pattern(route.template),
            "status": route.rest.status,
        }
        if route.rest.bare_array:
            entry["bare_array"] = route.rest.bare_array
        if route.rest.form:
            entry["form_fields"] = list(route.rest.form_fields)
        if route.rest.location:
            entry["location"] = route.rest.location
        if route.rest.etag:
            entry["etag"] = True
        if route.rest.headers:
            entry["headers"] = [{"name": name.lower(), "value": value} for name, value, _ in route.rest.headers]
        if refused := not_in_query(route, messages[route.request]):
            entry["not_in_query"] = refused
        entries.append(entry)
    return LUA_HEADER + "return " + _lua(entries) + "\n"
