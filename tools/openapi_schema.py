"""Turn the descriptor set of protos/ into the OpenAPI 3.1 document of the public edge.

Our own generator (grpc-gateway's protoc-gen-openapiv2 and gnostic's protoc-gen-openapi cannot be
installed here, and neither knows our options). It reads, per RPC of every `gx.*` service the edge
routes:
- `google.api.http` (and additional_bindings): path, verb, which field is the body;
- `google.api.field_behavior`: REQUIRED → `required`, OUTPUT_ONLY → `readOnly`, INPUT_ONLY →
  `writeOnly`; `google.api.field_info` format UUID4 → `format: uuid`;
- `(gx.type.v1.field)` validation rules: lengths, patterns, email/uuid, integer ranges, item counts;
- `(gx.type.v1.access)`: public RPCs need no credentials, the others a bearer JWT or an API key;
- an RPC answering a `gx.type.v1.Operation` that is not a read (Get/List/Wait…) records a ledger
  command: its service sets `x-http-status: 202` and the edge answers `202 Accepted`;
- comments (leading and trailing) as descriptions.
JSON follows the proto3 mapping the transcoder applies: lowerCamelCase names, 64-bit integers as
strings, enums by name, Timestamp/Duration/FieldMask as strings. Errors are `google.rpc.Status`
with its `details` (ErrorInfo, BadRequest, ...). Mutations with a `request_id` field take the
`Idempotency-Key` header instead.

It never drops anything silently: an RPC without an HTTP rule, a field type it does not know, a
path variable that names no field, a query parameter that cannot be written in a query string, or
two RPCs on one path and verb raise `OpenApiError`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from google.protobuf import descriptor_pb2

FDP = descriptor_pb2.FieldDescriptorProto

_GX_SERVICE = re.compile(r"^gx\.([a-z0-9_]+)\.v[0-9]+$")
_OPERATION = "gx.type.v1.Operation"
_STATUS = "google.rpc.Status"
_HTTP_BODY = "google.api.HttpBody"

# Scalar field types → JSON Schema, as proto3 JSON writes them.
_SCALARS: dict[int, dict[str, Any]] = {
    FDP.TYPE_DOUBLE: {"type": "number", "format": "double"},
    FDP.TYPE_FLOAT: {"type": "number", "format": "float"},
    FDP.TYPE_INT32: {"type": "integer", "format": "int32"},
    FDP.TYPE_SINT32: {"type": "integer", "format": "int32"},
    FDP.TYPE_SFIXED32: {"type": "integer", "format": "int32"},
    FDP.TYPE_UINT32: {"type": "integer", "minimum": 0, "maximum": 4294967295},
    FDP.TYPE_FIXED32: {"type": "integer", "minimum": 0, "maximum": 4294967295},
    # 64-bit integers are JSON strings (JavaScript numbers lose precision past 2^53).
    FDP.TYPE_INT64: {"type": "string", "format": "int64", "pattern": "^-?[0-9]+$"},
    FDP.TYPE_SINT64: {"type": "string", "format": "int64", "pattern": "^-?[0-9]+$"},
    FDP.TYPE_SFIXED64: {"type": "string", "format": "int64", "pattern": "^-?[0-9]+$"},
    FDP.TYPE_UINT64: {"type": "string", "format": "uint64", "pattern": "^[0-9]+$"},
    FDP.TYPE_FIXED64: {"type": "string", "format": "uint64", "pattern": "^[0-9]+$"},
    FDP.TYPE_BOOL: {"type": "boolean"},
    FDP.TYPE_STRING: {"type": "string"},
    FDP.TYPE_BYTES: {"type": "string", "format": "byte", "contentEncoding": "base64"},
}
_INT64 = {FDP.TYPE_INT64, FDP.TYPE_SINT64, FDP.TYPE_SFIXED64, FDP.TYPE_UINT64, FDP.TYPE_FIXED64}
_INT32 = {FDP.TYPE_INT32, FDP.TYPE_SINT32, FDP.TYPE_SFIXED32, FDP.TYPE_UINT32, FDP.TYPE_FIXED32}

# Well-known types whose proto3 JSON form is not an object of their fields.
_WELL_KNOWN: dict[str, dict[str, Any]] = {
    "google.protobuf.Timestamp": {"type": "string", "format": "date-time", "description": "RFC 3339, UTC."},
    "google.protobuf.Duration": {
        "type": "string",
        "pattern": "^-?[0-9]+(\\.[0-9]{1,9})?s$",
        "description": "Seconds with up to nine fractional digits and an `s` suffix, e.g. `1.5s`.",
    },
    "google.protobuf.FieldMask": {
        "type": "string",
        "description": "Comma-separated lowerCamelCase field paths, e.g. `displayName,countryCode`.",
    },
    "google.protobuf.Empty": {"type": "object", "additionalProperties": False},
    "google.protobuf.Struct": {"type": "object", "additionalProperties": True},
    "google.protobuf.Value": {"description": "Any JSON value."},
    "google.protobuf.ListValue": {"type": "array", "items": {}},
    "google.protobuf.Any": {
        "type": "object",
        "properties": {"@type": {"type": "string", "description": "The type URL of the packed message."}},
        "required": ["@type"],
        "additionalProperties": True,
    },
    "google.protobuf.StringValue": {"type": ["string", "null"]},
    "google.protobuf.BytesValue": {"type": ["string", "null"], "format": "byte"},
    "google.protobuf.BoolValue": {"type": ["boolean", "null"]},
    "google.protobuf.DoubleValue": {"type": ["number", "null"]},
    "google.protobuf.FloatValue": {"type": ["number", "null"]},
    "google.protobuf.Int32Value": {"type": ["integer", "null"], "format": "int32"},
    "google.protobuf.UInt32Value": {"type": ["integer", "null"], "minimum": 0},
    "google.protobuf.Int64Value": {"type": ["string", "null"], "format": "int64"},
    "google.protobuf.UInt64Value": {"type": ["string", "null"], "format": "uint64"},
}
# Error details the services attach (services/common/errors.py); other details stay a plain Any.
_ERROR_DETAILS = (
    "google.rpc.ErrorInfo",
    "google.rpc.BadRequest",
    "google.rpc.RetryInfo",
    "google.rpc.PreconditionFailure",
)

_UUID_PATTERN = "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"


class OpenApiError(Exception):
    """The descriptors hold something the generator cannot describe faithfully."""


@dataclass
class _Comments:
    """Leading and trailing comments by source path, for one file."""

    by_path: dict[tuple[int, ...], str] = field(default_factory=dict)

    @classmethod
    def of(cls, file: descriptor_pb2.FileDescriptorProto) -> _Comments:
        found = {}
        for loc in file.source_code_info.location:
            text = "\n".join(part for part in (loc.leading_comments, loc.trailing_comments) if part.strip())
            lines = [line.strip() for line in text.splitlines()]
            cleaned = "\n".join(line for line in lines if not line.startswith("buf:lint")).strip()
            if cleaned:
                found[tuple(loc.path)] = cleaned
        return cls(found)

    def get(self, path: tuple[int, ...]) -> str:
        return self.by_path.get(path, "")


@dataclass
class _Message:
    name: str
    proto: descriptor_pb2.DescriptorProto
    comments: _Comments
    path: tuple[int, ...]


@dataclass
class _Enum:
    name: str
    proto: descriptor_pb2.EnumDescriptorProto
    comments: _Comments
    path: tuple[int, ...]


class _Types:
    """Every message and enum of the set by full name (no leading dot)."""

    def __init__(self, files: Iterable[descriptor_pb2.FileDescriptorProto]) -> None:
        self.messages: dict[str, _Message] = {}
        self.enums: dict[str, _Enum] = {}
        for file in files:
            comments = _Comments.of(file)
            prefix = file.package
            for i, msg in enumerate(file.message_type):
                self._add_message(prefix, msg, comments, (4, i))
            for i, enum in enumerate(file.enum_type):
                self.enums[f"{prefix}.{enum.name}"] = _Enum(f"{prefix}.{enum.name}", enum, comments, (5, i))

    def _add_message(
        self, prefix: str, msg: descriptor_pb2.DescriptorProto, comments: _Comments, path: tuple[int, ...]
    ) -> None:
        name = f"{prefix}.{msg.name}"
        self.messages[name] = _Message(name, msg, comments, path)
        for i, nested in enumerate(msg.nested_type):
            self._add_message(name, nested, comments, (*path, 3, i))
        for i, enum in enumerate(msg.enum_type):
            self.enums[f"{name}.{enum.name}"] = _Enum(f"{name}.{enum.name}", enum, comments, (*path, 4, i))

    def message(self, name: str) -> _Message:
        try:
            return self.messages[name.lstrip(".")]
        except KeyError:
            raise OpenApiError(f"message {name} is not in the descriptor set") from None


def _behaviors(f: descriptor_pb2.FieldDescriptorProto) -> set[str]:
    from google.api import field_behavior_pb2

    values = f.options.Extensions[field_behavior_pb2.field_behavior]
    return {field_behavior_pb2.FieldBehavior.Name(v) for v in values}


def _rules(f: descriptor_pb2.FieldDescriptorProto) -> Any:
    from gx.type.v1 import validation_pb2

    if not f.options.HasExtension(validation_pb2.field):
        return None
    return f.options.Extensions[validation_pb2.field]


def _uuid4(f: descriptor_pb2.FieldDescriptorProto) -> bool:
    from google.api import field_info_pb2

    if not f.options.HasExtension(field_info_pb2.field_info):
        return False
    return bool(f.options.Extensions[field_info_pb2.field_info].format == field_info_pb2.FieldInfo.UUID4)


def _rule_text(rules: Any) -> list[str]:
    """The rules no JSON Schema keyword carries for a 64-bit (string) integer, as prose."""
    words = []
    if rules.HasField("gt"):
        words.append(f"greater than {rules.gt}")
    if rules.HasField("gte"):
        words.append(f"at least {rules.gte}")
    if rules.HasField("lte"):
        words.append(f"at most {rules.lte}")
    return words


def _with_rules(schema: dict[str, Any], f: descriptor_pb2.FieldDescriptorProto) -> dict[str, Any]:
    """Add the `gx.type.v1.field` rules and `field_info` format of a field to its (item) schema."""
    rules = _rules(f)
    if _uuid4(f) and f.type == FDP.TYPE_STRING:
        schema = {**schema, "format": "uuid"}
    if rules is None:
        return schema
    out = dict(schema)
    if f.type == FDP.TYPE_STRING:
        if rules.uuid:
            out["format"] = "uuid"
            out["pattern"] = _UUID_PATTERN
        if rules.email:
            out["format"] = "email"
        if rules.min_len:
            out["minLength"] = rules.min_len
        if rules.max_len:
            out["maxLength"] = rules.max_len
        if rules.pattern:
            # The service matches the whole string (Python re.fullmatch); anchor it for JSON Schema.
            out["pattern"] = f"^(?:{rules.pattern})$"
    elif f.type in _INT32:
        if rules.HasField("gt"):
            out["exclusiveMinimum"] = rules.gt
        if rules.HasField("gte"):
            out["minimum"] = rules.gte
        if rules.HasField("lte"):
            out["maximum"] = rules.lte
    elif f.type in _INT64:
        words = _rule_text(rules)
        if words:
            out["x-gx-range"] = {k: getattr(rules, k) for k in ("gt", "gte", "lte") if rules.HasField(k)}
            out["description"] = f"Must be {' and '.join(words)}."
            # A decimal string has no numeric bounds in JSON Schema; the common ones are patterns.
            positive = (rules.HasField("gt") and rules.gt == 0) or (rules.HasField("gte") and rules.gte == 1)
            if positive:
                out["pattern"] = "^[1-9][0-9]*$"
            elif rules.HasField("gte") and rules.gte == 0:
                out["pattern"] = "^[0-9]+$"
    return out


class Generator:
    """Builds the document; `schemas` collects every component schema referenced."""

    def __init__(
        self, fds: descriptor_pb2.FileDescriptorSet, *, server_url: str, domains: Iterable[str] | None
    ) -> None:
        _import_extensions()
        self.fds = fds
        self.types = _Types(fds.file)
        self.server_url = server_url
        self.domains = None if domains is None else set(domains)
        self.schemas: dict[str, Any] = {}

    # -- schemas ----------------------------------------------------------------------------

    def ref(self, type_name: str) -> dict[str, Any]:
        """A `$ref` to the component schema of a message or enum, creating it once."""
        name = type_name.lstrip(".")
        if name not in self.schemas:
            self.schemas[name] = {}  # placeholder: recursive messages refer to themselves
            if name in _WELL_KNOWN:
                self.schemas[name] = dict(_WELL_KNOWN[name])
            elif name in self.types.enums:
                self.schemas[name] = self._enum_schema(self.types.enums[name])
            elif name == _STATUS:
                self.schemas[name] = self._status_schema()
            else:
                self.schemas[name] = self.message_schema(self.types.message(name))
        return {"$ref": f"#/components/schemas/{name}"}

    def _enum_schema(self, enum: _Enum) -> dict[str, Any]:
        lines = [enum.comments.get(enum.path)] if enum.comments.get(enum.path) else []
        for i, value in enumerate(enum.proto.value):
            note = enum.comments.get((*enum.path, 2, i))
            lines.append(f"- `{value.name}`" + (f": {' '.join(note.split())}" if note else ""))
        return {"type": "string", "enum": [v.name for v in enum.proto.value], "description": "\n".join(lines)}

    def _status_schema(self) -> dict[str, Any]:
        details = [self.ref(name) for name in _ERROR_DETAILS if name in self.types.messages]
        for name in _ERROR_DETAILS:
            if name in self.types.messages:
                # In JSON an Any carries its type URL beside the packed message's fields.
                packed = self.schemas[name]
                packed.setdefault("properties", {})["@type"] = {"const": f"type.googleapis.com/{name}"}
                packed["required"] = sorted({*packed.get("required", []), "@type"})
        return {
            "type": "object",
            "description": "Every error answer: the gRPC status code, a message, and typed details "
            "(an ErrorInfo with an UPPER_SNAKE `reason` on every GX error; BadRequest field violations for bad input).",
            "properties": {
                "code": {"type": "integer", "format": "int32", "description": "The gRPC status code."},
                "message": {"type": "string"},
                "details": {"type": "array", "items": {"anyOf": [*details, self.ref("google.protobuf.Any")]}},
            },
            "required": ["code", "message"],
        }

    def field_schema(self, f: descriptor_pb2.FieldDescriptorProto) -> dict[str, Any]:
        """The JSON Schema of one field's value (an array for repeated fields, an object for maps)."""
        if f.type in (FDP.TYPE_MESSAGE, FDP.TYPE_GROUP):
            if f.type == FDP.TYPE_GROUP:
                raise OpenApiError(f"field {f.name}: groups have no JSON mapping")
            entry = self.types.messages.get(f.type_name.lstrip("."))
            if entry is not None and entry.proto.options.map_entry:
                key, value = entry.proto.field
                if key.type not in _SCALARS:
                    raise OpenApiError(f"map field {f.name}: key type {key.type} cannot be a JSON key")
                return {"type": "object", "additionalProperties": self.field_schema(value)}
            item: dict[str, Any] = self.ref(f.type_name)
        elif f.type == FDP.TYPE_ENUM:
            item = self.ref(f.type_name)
            rules = _rules(f)
            # Unset is the zero value (no presence): a required one refuses it too.
            required = "REQUIRED" in _behaviors(f) and f.label != FDP.LABEL_REPEATED and not f.proto3_optional
            if (rules is not None and rules.enum_defined) or required:
                # The caller must choose: the zero (`..._UNSPECIFIED`) value is refused.
                zero = self.types.enums[f.type_name.lstrip(".")].proto.value[0].name
                item = {"allOf": [item], "not": {"const": zero}}
        elif f.type in _SCALARS:
            item = _with_rules(dict(_SCALARS[f.type]), f)
            if (
                f.type == FDP.TYPE_STRING
                and f.label != FDP.LABEL_REPEATED
                and not f.proto3_optional
                and "REQUIRED" in _behaviors(f)
            ):
                # A required proto3 string is unset when empty: the services refuse "" ("is required").
                item.setdefault("minLength", 1)
        else:
            raise OpenApiError(f"field {f.name}: type {f.type} has no JSON mapping here")
        if f.label == FDP.LABEL_REPEATED:
            array: dict[str, Any] = {"type": "array", "items": item}
            rules = _rules(f)
            if rules is not None and rules.min_items:
                array["minItems"] = rules.min_items
            elif "REQUIRED" in _behaviors(f):
                # A required repeated field is unset when empty, like a string.
                array["minItems"] = 1
            if rules is not None and rules.max_items:
                array["maxItems"] = rules.max_items
            return array
        return item

    def _described(
        self, schema: dict[str, Any], f: descriptor_pb2.FieldDescriptorProto, text: str
    ) -> dict[str, Any]:
        out = dict(schema)
        behaviors = _behaviors(f)
        if "$ref" in out:
            # 3.1 allows siblings of $ref; keep them for descriptions and readOnly.
            pass
        notes = [text] if text else []
        if out.get("description") and "$ref" not in out:
            notes.append(out["description"])
        if "IMMUTABLE" in behaviors:
            notes.append("Immutable once set.")
        if notes:
            out["description"] = "\n\n".join(notes)
        if "OUTPUT_ONLY" in behaviors:
            out["readOnly"] = True
        if "INPUT_ONLY" in behaviors:
            out["writeOnly"] = True
        return out

    def message_schema(self, msg: _Message, *, without: frozenset[str] = frozenset()) -> dict[str, Any]:
        """The object schema of a message; `without` leaves out fields (those bound to the path)."""
        properties: dict[str, Any] = {}
        required: list[str] = []
        for i, f in enumerate(msg.proto.field):
            if f.name in without:
                continue
            text = msg.comments.get((*msg.path, 2, i))
            properties[f.json_name] = self._described(self.field_schema(f), f, text)
            if "REQUIRED" in _behaviors(f):
                required.append(f.json_name)
        # The edge refuses a key the message does not have (edge/validate.lua: 400 UNKNOWN_FIELD),
        # at every depth; the document says so instead of promising that extra keys are ignored.
        schema: dict[str, Any] = {"type": "object", "properties": properties, "additionalProperties": False}
        if required:
            schema["required"] = required
        if msg.comments.get(msg.path):
            schema["description"] = msg.comments.get(msg.path)
        oneofs = [o.name for i, o in enumerate(msg.proto.oneof_decl) if not _synthetic(msg.proto, i)]
        if oneofs:
            schema["x-gx-oneof"] = {
                name: [
                    f.json_name for f in msg.proto.field if f.HasField("oneof_index") and f.oneof_index == i
                ]
                for i, name in enumerate(o.name for o in msg.proto.oneof_decl)
                if name in oneofs
            }
            # At most one member of a oneof may be given (the transcoder refuses two with 400). The
            # empty `properties` only satisfy linters that want every required name declared.
            exclusive = [
                {"not": {"properties": {a: {}, b: {}}, "required": [a, b]}}
                for members in schema["x-gx-oneof"].values()
                for n, a in enumerate(m for m in members if m in properties)
                for b in [m for m in members if m in properties][n + 1 :]
            ]
            if exclusive:
                schema["allOf"] = exclusive
        return schema

    # -- operations ---------------------------------------------------------------------------

    def services(
        self,
    ) -> Iterator[tuple[descriptor_pb2.FileDescriptorProto, int, descriptor_pb2.ServiceDescriptorProto]]:
        for file in self.fds.file:
            match = _GX_SERVICE.match(file.package)
            if not match or (self.domains is not None and match.group(1) not in self.domains):
                continue
            for i, svc in enumerate(file.service):
                yield file, i, svc

    def document(self) -> dict[str, Any]:
        """The whole OpenAPI 3.1 document."""
        paths: dict[str, dict[str, Any]] = {}
        shapes: dict[str, str] = {}
        tags = []
        for file, si, svc in self.services():
            comments = _Comments.of(file)
            full = f"{file.package}.{svc.name}"
            tags.append(
                {"name": full, "description": comments.get((6, si))}
                if comments.get((6, si))
                else {"name": full}
            )
            for mi, method in enumerate(svc.method):
                rules = _http_rules(method)
                if not rules:
                    raise OpenApiError(
                        f"{full}/{method.name} has no google.api.http rule: it would be missing from the document"
                    )
                for n, (verb, template, body) in enumerate(rules):
                    path, operation = self.operation(
                        full, method, comments.get((6, si, 2, mi)), verb, template, body
                    )
                    operation["operationId"] = f"{svc.name}_{method.name}" + (f"_{n}" if n else "")
                    path = _same_shape(path, operation, shapes)
                    slot = paths.setdefault(path, {})
                    if verb.lower() in slot:
                        raise OpenApiError(
                            f"{verb} {path} is bound twice ({slot[verb.lower()]['operationId']} and {operation['operationId']})"
                        )
                    slot[verb.lower()] = operation
        self.ref(_STATUS)
        return {
            "openapi": "3.1.0",
            "info": {
                "title": "GX mesh API",
                "version": "v1",
                "description": "The public REST surface of the GX mesh, served by the Envoy edge (REST transcoded to gRPC). "
                "Generated from the protos by tools/openapi.py; do not edit. JSON is proto3 JSON: lowerCamelCase "
                "names, 64-bit integers (amounts in Qirat) as strings, enums by name, times in RFC 3339.",
            },
            # Relative first: a client that fetched the document from an edge (any host, any port,
            # a cluster's ingress) calls that same edge.
            "servers": [
                {"url": "/", "description": "the edge that served this document"},
                {"url": self.server_url, "description": "`make up` (the edge's default address)"},
            ],
            "tags": tags,
            "paths": dict(sorted(paths.items())),
            "components": {
                "schemas": dict(sorted(self.schemas.items())),
                "responses": {
                    name: {
                        "description": text,
                        "content": {
                            "application/json": {"schema": {"$ref": f"#/components/schemas/{_STATUS}"}}
                        },
                    }
                    for name, text in (
                        (
                            "BadRequest",
                            "Bad input (INVALID_ARGUMENT): google.rpc.Status with an ErrorInfo reason and "
                            "BadRequest field violations.",
                        ),
                        ("Unauthenticated", "No valid bearer token or API key (UNAUTHENTICATED)."),
                        ("Error", "Any other error: google.rpc.Status as JSON, with an ErrorInfo reason."),
                    )
                },
                "securitySchemes": {
                    "bearerAuth": {
                        "type": "http",
                        "scheme": "bearer",
                        "bearerFormat": "JWT",
                        "description": "An ES256 access token from `POST /v1/auth:login` (keys at /.well-known/jwks.json).",
                    },
                    "apiKey": {
                        "type": "apiKey",
                        "in": "header",
                        "name": "X-API-Key",
                        "description": "A partner's API key. Alone, the key's partner is the caller; with a bearer "
                        "token, the user stays the caller and the key's licence is charged.",
                    },
                },
            },
        }

    def operation(
        self,
        service: str,
        method: descriptor_pb2.MethodDescriptorProto,
        text: str,
        verb: str,
        template: str,
        body: str,
    ) -> tuple[str, dict[str, Any]]:
        request = self.types.message(method.input_type)
        by_name = {f.name: f for f in request.proto.field}
        path, path_fields = _openapi_path(template, request, self.types)
        parameters: list[dict[str, Any]] = []
        for dotted, leaf, json_path in path_fields:
            parameters.append(
                {
                    "name": json_path,
                    "in": "path",
                    "required": True,
                    "schema": self._described(self.field_schema(leaf), leaf, ""),
                    "description": f"The request's `{dotted}` field.",
                }
            )
        bound = {dotted.split(".")[0] for dotted, _, _ in path_fields}
        operation: dict[str, Any] = {"tags": [service]}
        if text:
            operation["summary"] = _first_sentence(text)
            operation["description"] = text
        if body == "*":
            whole = {dotted.split(".")[0] for dotted, _, _ in path_fields}
            if any("." in dotted for dotted, _, _ in path_fields):
                raise OpenApiError(
                    f"{service}/{method.name}: a nested path field with body '*' cannot be described"
                )
            schema = (
                self.message_schema(request, without=frozenset(whole))
                if whole
                else self.ref(method.input_type)
            )
            operation["requestBody"] = {"required": True, "content": {"application/json": {"schema": schema}}}
        else:
            if body:
                target = by_name.get(body)
                if target is None:
                    raise OpenApiError(
                        f"{service}/{method.name}: body field {body!r} is not in {request.name}"
                    )
                operation["requestBody"] = {
                    "required": True,
                    "content": {"application/json": {"schema": self.field_schema(target)}},
                }
                bound.add(body)
            for i, f in enumerate(request.proto.field):
                if f.name in bound:
                    continue
                parameters += self._query(
                    f, request.comments.get((*request.path, 2, i)), f"{service}/{method.name}", ()
                )
        if "request_id" in by_name and verb != "GET":
            parameters.append(
                {
                    "name": "Idempotency-Key",
                    "in": "header",
                    "required": False,
                    "schema": self.field_schema(by_name["request_id"]),
                    "description": "Instead of `requestId` in the body: the same key repeats the first answer "
                    "instead of doing the work twice (DESIGN.md §3).",
                }
            )
        if parameters:
            operation["parameters"] = parameters
        operation["responses"] = self._responses(method)
        operation["security"] = (
            []
            if _is_public(method)
            else [{"bearerAuth": []}, {"apiKey": []}, {"bearerAuth": [], "apiKey": []}]
        )
        roles = _roles(method)
        if roles:
            operation["x-gx-roles"] = roles
        return path, operation

    def _query(
        self, f: descriptor_pb2.FieldDescriptorProto, text: str, where: str, prefix: tuple[str, ...]
    ) -> list[dict[str, Any]]:
        """Query parameters for one request field not in the path or body (nested messages dotted)."""
        name = ".".join((*prefix, f.json_name))
        if f.type == FDP.TYPE_MESSAGE and f.type_name.lstrip(".") not in _WELL_KNOWN:
            entry = self.types.message(f.type_name)
            if f.label == FDP.LABEL_REPEATED or entry.proto.options.map_entry:
                raise OpenApiError(
                    f"{where}: field {name} (repeated message or map) cannot be a query parameter"
                )
            if len(prefix) > 4:
                raise OpenApiError(f"{where}: field {name} nests too deep for a query parameter")
            out = []
            for i, sub in enumerate(entry.proto.field):
                out += self._query(
                    sub, entry.comments.get((*entry.path, 2, i)), where, (*prefix, f.json_name)
                )
            return out
        if f.type == FDP.TYPE_MESSAGE and f.label == FDP.LABEL_REPEATED:
            raise OpenApiError(f"{where}: field {name} (repeated message) cannot be a query parameter")
        param: dict[str, Any] = {
            "name": name,
            "in": "query",
            "required": "REQUIRED" in _behaviors(f),
            "schema": self._described(self.field_schema(f), f, ""),
        }
        if f.label == FDP.LABEL_REPEATED:
            param["explode"] = True
        if text:
            param["description"] = text
        return [param]

    def _responses(self, method: descriptor_pb2.MethodDescriptorProto) -> dict[str, Any]:
        output = method.output_type.lstrip(".")
        if output == _HTTP_BODY:
            ok: dict[str, Any] = {
                "description": "The document itself (google.api.HttpBody: its content type and bytes).",
                "content": {"application/json": {"schema": {"type": "object"}}},
            }
        else:
            ok = {"description": "OK", "content": {"application/json": {"schema": self.ref(output)}}}
        if _is_command(method):
            accepted = dict(ok)
            accepted["description"] = (
                "Accepted: the ledger command is recorded. Follow the Operation with "
                "`GET /v1/operations/{operationId}` or `POST /v1/operations/{operationId}:wait`."
            )
            return {"202": accepted, **self._errors(method)}
        return {"200": ok, **self._errors(method)}

    @staticmethod
    def _errors(method: descriptor_pb2.MethodDescriptorProto) -> dict[str, Any]:
        """The error answers: 400 (bad input, possible everywhere), 401 where credentials are needed, and the rest."""
        errors: dict[str, Any] = {"400": {"$ref": "#/components/responses/BadRequest"}}
        if not _is_public(method):
            errors["401"] = {"$ref": "#/components/responses/Unauthenticated"}
        errors["default"] = {"$ref": "#/components/responses/Error"}
        return errors


def _same_shape(path: str, operation: dict[str, Any], shapes: dict[str, str]) -> str:
    """Give a path the variable names of an earlier path of the same shape; return the path to use.

    OpenAPI treats `/v1/users/{userId}` and `/v1/users/{user.userId}` as one path (it MUST NOT
    list both), so the later operation's path parameters are renamed, position by position, to
    the first one's names; their descriptions still name the request field each one fills.
    """
    variables = re.compile(r"\{([^}]+)\}")
    shape = variables.sub("{}", path)
    first = shapes.setdefault(shape, path)
    if first == path:
        return path
    renames = dict(zip(variables.findall(path), variables.findall(first), strict=True))
    for param in operation.get("parameters", []):
        if param["in"] == "path":
            param["name"] = renames[param["name"]]
    return first


def _synthetic(msg: descriptor_pb2.DescriptorProto, index: int) -> bool:
    """A proto3 `optional` field's hidden one-field oneof."""
    members = [f for f in msg.field if f.HasField("oneof_index") and f.oneof_index == index]
    return len(members) == 1 and members[0].proto3_optional


def _first_sentence(text: str) -> str:
    flat = " ".join(text.split())
    end = flat.find(". ")
    return flat if end < 0 else flat[: end + 1]


def _http_rules(method: descriptor_pb2.MethodDescriptorProto) -> list[tuple[str, str, str]]:
    from google.api import annotations_pb2

    if not method.options.HasExtension(annotations_pb2.http):
        return []
    top = method.options.Extensions[annotations_pb2.http]
    rules = []
    for rule in (top, *top.additional_bindings):
        kind = rule.WhichOneof("pattern")
        if kind == "custom":
            rules.append((rule.custom.kind.upper(), rule.custom.path, rule.body))
        elif kind:
            rules.append((kind.upper(), getattr(rule, kind), rule.body))
    return rules


def _openapi_path(
    template: str, request: _Message, types: _Types
) -> tuple[str, list[tuple[str, descriptor_pb2.FieldDescriptorProto, str]]]:
    """`/v1/users/{user_id}` → `/v1/users/{userId}`, with (proto path, leaf field, parameter name) per variable.

    A nested variable (`{license.partner_id}`) is named by its leaf (`partnerId`), or by its whole
    path in lowerCamelCase (`licensePartnerId`) when two leaves of one path share a name. A name
    must be a plain identifier: clients (schemathesis, SDK generators) substitute `{name}` with
    format-string machinery that reads a dot as attribute access.
    """
    fields = []
    leaves = [v.split("=")[0].rsplit(".", 1)[-1] for v in re.findall(r"\{([^}]+)\}", template)]

    def replace(match: re.Match[str]) -> str:
        dotted, pattern = match.group(1), match.group(2)
        if pattern and pattern not in ("*",):
            raise OpenApiError(
                f"path {template}: variable {{{dotted}={pattern}}} spans segments; not describable"
            )
        message, leaf = request, None
        names: list[str] = []
        for part in dotted.split("."):
            current = {f.name: f for f in message.proto.field}.get(part)
            if current is None:
                raise OpenApiError(f"path {template}: {dotted} names no field of {request.name}")
            names.append(current.json_name)
            leaf = current
            if current.type == FDP.TYPE_MESSAGE:
                message = types.message(current.type_name)
        assert leaf is not None
        if leaf.type == FDP.TYPE_MESSAGE or leaf.label == FDP.LABEL_REPEATED:
            raise OpenApiError(f"path {template}: {dotted} is not a single scalar")
        if leaves.count(leaf.name) == 1:
            name = names[-1]
        else:
            name = names[0] + "".join(n[:1].upper() + n[1:] for n in names[1:])
        fields.append((dotted, leaf, name))
        return "{" + name + "}"

    path = re.sub(r"\{([^}=]+)(?:=([^}]*))?\}", replace, template)
    return path, fields


def _is_public(method: descriptor_pb2.MethodDescriptorProto) -> bool:
    from gx.type.v1 import access_pb2

    return method.options.HasExtension(access_pb2.access) and bool(
        method.options.Extensions[access_pb2.access].public
    )


def _roles(method: descriptor_pb2.MethodDescriptorProto) -> list[str]:
    from gx.type.v1 import access_pb2

    if not method.options.HasExtension(access_pb2.access):
        return []
    return [access_pb2.Role.Name(r) for r in method.options.Extensions[access_pb2.access].roles]


# Standard read methods (AIP-131/132, and WaitOperation) answer an Operation without recording one.
_READS = ("Get", "List", "Wait")


def _is_command(method: descriptor_pb2.MethodDescriptorProto) -> bool:
    """A ledger command: it answers a new Operation, which the services send with HTTP 202."""
    return method.output_type.lstrip(".") == _OPERATION and not method.name.startswith(_READS)


def _import_extensions() -> None:
    """The option extensions must be registered before the descriptor set is parsed."""
    from google.api import annotations_pb2, field_behavior_pb2, field_info_pb2  # noqa: F401
    from gx.ledger.v1 import options_pb2  # noqa: F401
    from gx.type.v1 import access_pb2, validation_pb2  # noqa: F401


def generate(
    data: bytes, *, server_url: str = "http://127.0.0.1:8080", domains: Iterable[str] | None = None
) -> dict[str, Any]:
    """Parse a serialized FileDescriptorSet and return the OpenAPI document of its gx services."""
    _import_extensions()
    fds = descriptor_pb2.FileDescriptorSet.FromString(data)
    return Generator(fds, server_url=server_url, domains=domains).document()
