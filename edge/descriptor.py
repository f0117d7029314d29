"""The descriptor set Envoy transcodes from: compile it from protos/, and read the services, REST bindings,
access rules and request shapes in it."""

from __future__ import annotations

import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from edge.errors import EdgeConfigError

# Rich error details (ErrorInfo, BadRequest) must be in the set, or Envoy answers errors that
# carry them with an empty body (research/stack.md §4, pitfall 1).
_GOOGLE_EXTRAS = ("google/rpc/status.proto", "google/rpc/error_details.proto")
_GX_SERVICE = re.compile(r"^gx\.([a-z0-9_]+)\.v[0-9]+\.")


@dataclass(frozen=True)
class HttpRule:
    """One REST binding of an RPC: the HTTP verb, its path template, and which request field the body fills.

    `body` is `*` (the whole request), a field name, or empty (no body).
    """

    verb: str
    template: str
    body: str = ""


@dataclass(frozen=True)
class Method:
    """One RPC of a gx service, as the edge needs to know it.

    Attributes:
        grpc_path: `/package.Service/Method`, the native gRPC path (and the path after transcoding).
        http_rules: Its REST bindings (`google.api.http`, including additional_bindings).
        public: True when the contract marks it `(gx.type.v1.access).public`: callable without a token.
        input_type: Full name of the request message (no leading dot).
    """

    grpc_path: str
    http_rules: tuple[HttpRule, ...]
    public: bool
    input_type: str = ""


@dataclass(frozen=True)
class Service:
    """A `gx.<domain>.v1` gRPC service in the descriptor set.

    Attributes:
        name: The full service name, e.g. `gx.identity.v1.IdentityService`.
        domain: The `<domain>` part, which names the process that serves it (identity, wallet, licensing).
        methods: Its RPCs.
    """

    name: str
    domain: str
    methods: tuple[Method, ...]


def _source_files(protos_dir: Path) -> list[str]:
    return sorted(str(p.relative_to(protos_dir)) for p in protos_dir.rglob("*.proto"))


def build(repo_root: Path, out: Path) -> Path:
    """Compile protos/ into a descriptor set at `out` with grpcio-tools' protoc.

    `make descriptor` builds the same set with buf; this path needs neither buf nor the
    vendored third_party/ directory, so a test or `gx dev up` never depends on `make gen`
    having run first.
    """
    import google.api

    protos = repo_root / "protos"
    site = Path(next(iter(google.api.__path__))).parent.parent
    out.parent.mkdir(parents=True, exist_ok=True)
    cmd = [
        sys.executable, "-m", "grpc_tools.protoc",
        f"-I{protos}", f"-I{site}",
        "--include_imports", "--include_source_info",
        f"--descriptor_set_out={out}",
        *_source_files(protos), *_GOOGLE_EXTRAS,
    ]  # fmt: skip
    result = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise EdgeConfigError(f"descriptor: protoc failed: {result.stderr.strip()[-800:]}")
    return out


def _http_rules(options: object) -> tuple[HttpRule, ...]:
    from google.api import annotations_pb2

    if not options.HasExtension(annotations_pb2.http):  # type: ignore[attr-defined]
        return ()
    rules = []
    top = options.Extensions[annotations_pb2.http]  # type: ignore[attr-defined]
    for rule in (top, *top.additional_bindings):
        verb = rule.WhichOneof("pattern")
        if verb == "custom":
            rules.append(HttpRule(rule.custom.kind.upper(), rule.custom.path, rule.body))
        elif verb:
            rules.append(HttpRule(verb.upper(), getattr(rule, verb), rule.body))
    return tuple(rules)


def _is_public(options: object) -> bool:
    try:
        from gx.type.v1 import access_pb2
    except ImportError:  # contracts without access rules: nothing is public
        return False
    if not options.HasExtension(access_pb2.access):  # type: ignore[attr-defined]
        return False
    return bool(options.Extensions[access_pb2.access].public)  # type: ignore[attr-defined]


def read_services(path: Path) -> list[Service]:
    """List the `gx.*.v1` services in a descriptor set, with their REST bindings and access rules."""
    # The extension modules must be imported before parsing, so the method options come back
    # with `google.api.http` and `gx.type.v1.access` as known extensions.
    from google.api import annotations_pb2  # noqa: F401
    from google.protobuf import descriptor_pb2

    try:
        from gx.type.v1 import access_pb2  # noqa: F401
    except ImportError:
        pass
    fds = descriptor_pb2.FileDescriptorSet.FromString(path.read_bytes())
    services = []
    for file in fds.file:
        for svc in file.service:
            full = f"{file.package}.{svc.name}"
            match = _GX_SERVICE.match(full + ".")
            if not match:
                continue
            methods = tuple(
                Method(
                    grpc_path=f"/{full}/{m.name}",
                    http_rules=_http_rules(m.options),
                    public=_is_public(m.options),
                    input_type=m.input_type.lstrip("."),
                )
                for m in svc.method
            )
            services.append(Service(name=full, domain=match.group(1), methods=methods))
    return services


# Messages whose JSON form is not an object of their fields (proto3 JSON special cases): any
# content is accepted for them and left to the transcoder.
_OPAQUE_JSON = frozenset(
    {
        "google.protobuf.Any", "google.protobuf.Struct", "google.protobuf.Value", "google.protobuf.ListValue",
        "google.protobuf.Timestamp", "google.protobuf.Duration", "google.protobuf.FieldMask", "google.protobuf.Empty",
        "google.protobuf.DoubleValue", "google.protobuf.FloatValue", "google.protobuf.Int64Value",
        "google.protobuf.UInt64Value", "google.protobuf.Int32Value", "google.protobuf.UInt32Value",
        "google.protobuf.BoolValue", "google.protobuf.StringValue", "google.protobuf.BytesValue",
        "google.api.HttpBody",
    }
)  # fmt: skip


@dataclass(frozen=True)
class FieldShape:
    """What a JSON key of a message may hold: a scalar, a message, or a map of values."""

    message: str | None = (
        None  # nested message type (validated recursively) or None for a scalar/opaque value
    )
    is_map: bool = False


def _lower_camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def message_shapes(path: Path) -> dict[str, dict[str, FieldShape]]:
    """Map each message in a descriptor set to the JSON keys it accepts (both lowerCamel and proto names).

    The edge uses this to reject request bodies with unknown fields, which Envoy's transcoder
    would otherwise drop without a word.
    """
    from google.protobuf import descriptor_pb2

    fds = descriptor_pb2.FileDescriptorSet.FromString(path.read_bytes())
    raw: dict[str, descriptor_pb2.DescriptorProto] = {}

    def collect(prefix: str, messages: object) -> None:
        for msg in messages:  # type: ignore[attr-defined]
            name = f"{prefix}.{msg.name}" if prefix else msg.name
            raw[name] = msg
            collect(name, msg.nested_type)

    for file in fds.file:
        collect(file.package, file.message_type)

    shapes: dict[str, dict[str, FieldShape]] = {}
    for name, msg in raw.items():
        if msg.options.map_entry or name in _OPAQUE_JSON:
            continue
        fields: dict[str, FieldShape] = {}
        for fld in msg.field:
            shape = FieldShape()
            if fld.type == descriptor_pb2.FieldDescriptorProto.TYPE_MESSAGE:
                target = fld.type_name.lstrip(".")
                entry = raw.get(target)
                if entry is not None and entry.options.map_entry:
                    value = next((f for f in entry.field if f.name == "value"), None)
                    inner = value.type_name.lstrip(".") if value is not None and value.type_name else ""
                    shape = FieldShape(
                        message=inner if inner and inner not in _OPAQUE_JSON else None, is_map=True
                    )
                elif target not in _OPAQUE_JSON:
                    shape = FieldShape(message=target)
            fields[fld.name] = shape
            fields[fld.json_name or _lower_camel(fld.name)] = shape
        shapes[name] = fields
    return shapes
