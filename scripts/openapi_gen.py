"""OpenAPI 3.1 from a descriptor set with source info: google.api.http rules, their route options, comments."""

from __future__ import annotations

import re
from typing import Any

from google.api import field_behavior_pb2
from google.protobuf import descriptor_pb2

from scripts.openapi_ops import operations
from scripts.openapi_rest import DETAIL_SCHEMAS, ERROR_SCHEMA, EXAMPLES, SECURITY_SCHEMES
from scripts.rest_routes import RouteOptions

FD = descriptor_pb2.FieldDescriptorProto
SCALARS: dict[int, dict[str, Any]] = {
    **{t: {"type": "integer", "format": "int32"} for t in (FD.TYPE_INT32, FD.TYPE_SINT32, FD.TYPE_SFIXED32)},
    **{t: {"type": "integer", "format": "int64"} for t in (FD.TYPE_UINT32, FD.TYPE_FIXED32)},
    # Envoy prints 64-bit integers as JSON strings (proto3 JSON mapping)
    **{t: {"type": "string", "format": "int64"} for t in (FD.TYPE_INT64, FD.TYPE_SINT64, FD.TYPE_SFIXED64)},
    **{t: {"type": "string", "format": "uint64"} for t in (FD.TYPE_UINT64, FD.TYPE_FIXED64)},
    FD.TYPE_DOUBLE: {"type": "number", "format": "double"},
    FD.TYPE_FLOAT: {"type": "number", "format": "float"},
    FD.TYPE_BOOL: {"type": "boolean"},
    FD.TYPE_STRING: {"type": "string"},
    FD.TYPE_BYTES: {"type": "string", "format": "byte"},
}
WELL_KNOWN = {
    ".google.protobuf.Timestamp": {"type": "string", "format": "date-time"},
    ".google.protobuf.Duration": {"type": "string", "pattern": "^-?[0-9]+(\\.[0-9]+)?s$"},
    ".google.protobuf.FieldMask": {"type": "string", "description": "Comma-separated field paths."},
    ".google.protobuf.Struct": {"type": "object"},
    ".google.protobuf.Value": {},
}
INFO = {
    "title": "Cigar collection API",
    "version": "1.0.0",
    "description": "The REST API that the Envoy gateway serves, generated from the `.proto` files "
    "(`make protos`). The same operations are gRPC methods: see docs/grpc.md.",
}


def _clean(comment: str) -> str:
    """`// text` lines keep the space after the slashes: drop it, keep deeper indentation."""
    return "\n".join(line[1:] if line.startswith(" ") else line for line in comment.splitlines()).strip()


def _bounds(comment: str, schema: dict[str, Any]) -> None:
    """Bounds written in the comments as prose ("1 to 100 characters", "0 or more", "Default 10")."""
    if schema.get("type") == "string" and "format" not in schema:
        if m := re.search(r"(\d+) to (\d+) characters", comment):
            schema.update(minLength=int(m[1]), maxLength=int(m[2]))
        elif m := re.search(r"[Uu]p to (\d+) characters", comment):
            schema["maxLength"] = int(m[1])
    if schema.get("type") == "integer":
        if m := re.search(r"\b(\d+) to (\d+)\b(?! characters)", comment):
            schema.update(minimum=int(m[1]), maximum=int(m[2]))
        elif m := re.search(r"\b(\d+) or more\b", comment):
            schema["minimum"] = int(m[1])
        if m := re.search(r"\bDefault (\d+)\b", comment):
            schema["default"] = int(m[1])


class Generator:
    def __init__(self, fds: descriptor_pb2.FileDescriptorSet) -> None:
        self.messages: dict[str, descriptor_pb2.DescriptorProto] = {}
        self.enums: dict[str, descriptor_pb2.EnumDescriptorProto] = {}
        self.comments: dict[str, str] = {}
        self.files = list(fds.file)
        self.route_options = RouteOptions(fds)
        for f in self.files:
            self._index(f)
        self.schemas: dict[str, Any] = {}
        self.response_types: set[str] = set()

    def _index(self, f: descriptor_pb2.FileDescriptorProto) -> None:
        by_path = {tuple(loc.path): _clean(loc.leading_comments) for loc in f.source_code_info.location}
        pkg = f".{f.package}"

        def walk(msgs: Any, prefix: str, path: tuple[int, ...]) -> None:
            for i, m in enumerate(msgs):
                name, mpath = f"{prefix}.{m.name}", (*path, i)
                self.messages[name] = m
                self.comments[name] = by_path.get(mpath, "")
                for j, fld in enumerate(m.field):
                    self.comments[f"{name}.{fld.name}"] = by_path.get((*mpath, 2, j), "")
                for e in m.enum_type:
                    self.enums[f"{name}.{e.name}"] = e
                walk(m.nested_type, name, (*mpath, 3))

        walk(f.message_type, pkg, (4,))
        for e in f.enum_type:
            self.enums[f"{pkg}.{e.name}"] = e
        for i, s in enumerate(f.service):
            self.comments[f"{pkg}.{s.name}"] = by_path.get((6, i), "")
            for j, m in enumerate(s.method):
                self.comments[f"{pkg}.{s.name}.{m.name}"] = by_path.get((6, i, 2, j), "")

    def ref(self, type_name: str) -> dict[str, Any]:
        if type_name in WELL_KNOWN:
            return dict(WELL_KNOWN[type_name])
        short = type_name.rsplit(".", 1)[1]
        if short not in self.schemas:
            self.schemas[short] = {}  # placeholder first: recursive messages
            self.schemas[short] = self.message_schema(type_name)
        return {"$ref": f"#/components/schemas/{short}"}

    def field_schema(self, owner: str, fld: FD) -> dict[str, Any]:
        if fld.type == FD.TYPE_MESSAGE:
            entry = self.messages.get(fld.type_name)
            if entry is not None and entry.options.map_entry:
                return {"type": "object", "additionalProperties": self.field_schema(fld.type_name, entry.field[1])}
            schema = self.ref(fld.type_name)
        elif fld.type == FD.TYPE_ENUM:
            schema = {"type": "string", "enum": [v.name for v in self.enums[fld.type_name].value]}
        else:
            schema = dict(SCALARS[fld.type])
        comment = self.comments.get(f"{owner}.{fld.name}", "")
        _bounds(comment, schema)
        if fld.label == FD.LABEL_REPEATED:
            schema = {"type": "array", "items": schema}
        if comment:
            schema["description"] = comment
        behaviors = fld.options.Extensions[field_behavior_pb2.field_behavior]
        if field_behavior_pb2.OUTPUT_ONLY in behaviors:
            schema["readOnly"] = True
        if field_behavior_pb2.INPUT_ONLY in behaviors:
            schema["writeOnly"] = True
        return schema

    def message_schema(self, type_name: str, skip: frozenset[str] = frozenset()) -> dict[str, Any]:
        msg = self.messages[type_name]
        fields = [f for f in msg.field if f.name not in skip]
        schema: dict[str, Any] = {"type": "object", "properties": {}}
        if self.comments.get(type_name):
            schema["description"] = self.comments[type_name]
        schema["properties"] = {f.name: self.field_schema(type_name, f) for f in fields}
        required = [f.name for f in fields if field_behavior_pb2.REQUIRED in f.options.Extensions[
            field_behavior_pb2.field_behavior]]  # fmt: skip
        if required:
            schema["required"] = required
        if example := EXAMPLES.get(msg.name):
            schema["examples"] = [example]
        return schema

    def always_printed(self, type_name: str) -> None:
        """Responses print every non-optional scalar and repeated field (always_print_primitive_fields)."""
        short = type_name.rsplit(".", 1)[1]
        if type_name in self.response_types or short not in self.schemas:
            return
        self.response_types.add(type_name)
        msg = self.messages[type_name]
        printed = [f.name for f in msg.field if not f.proto3_optional and f.type != FD.TYPE_MESSAGE]
        printed += [f.name for f in msg.field if f.type == FD.TYPE_MESSAGE and f.label == FD.LABEL_REPEATED]
        self.schemas[short]["required"] = sorted(set(self.schemas[short].get("required", [])) | set(printed))
        for f in msg.field:
            if f.type == FD.TYPE_MESSAGE and f.type_name in self.messages:
                self.always_printed(f.type_name)

    def document(self) -> dict[str, Any]:
        paths: dict[str, Any] = {}
        tags = []
        for f in sorted(self.files, key=lambda f: f.package):
            for s in f.service:
                service = f".{f.package}.{s.name}"
                ops = list(operations(self, service, s))
                if ops:
                    tags.append({"name": s.name, "description": self.comments[service]})
                for path, verb, op in ops:
                    paths.setdefault(path, {})[verb] = op
        components = {
            "schemas": {**dict(sorted(self.schemas.items())), "Error": ERROR_SCHEMA, **DETAIL_SCHEMAS},
            "securitySchemes": SECURITY_SCHEMES,
        }
        return {"openapi": "3.1.0", "info": INFO, "tags": tags, "paths": paths, "components": components}
