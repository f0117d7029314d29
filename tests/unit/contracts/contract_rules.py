"""The API conventions of protos/gx as checks over compiled descriptors, shared by the contract tests.

Each `check_*` function takes a `Contracts` model and returns human-readable violations (empty
when the rule holds), so a test asserts `== []` and a failure lists every offender at once. The
model is built from a FileDescriptorSet compiled with source info, because comments exist only
there; options (google.api.http, gx.type.v1.access, field_behavior, gx.type.v1.field) are read as
parsed extensions, which works because their generated modules are imported below.
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from google.api import annotations_pb2, field_behavior_pb2, http_pb2
from google.protobuf import descriptor_pb2

# Imported for their side effect too: registering the gx option extensions with the default
# pool is what makes FileDescriptorSet.FromString parse them.
from gx.ledger.v1 import options_pb2
from gx.type.v1 import access_pb2, command_pb2, validation_pb2

# The chaincode's own rank order of ledger roles (a pure module: no Fabric imports).
from chaincode import certs

ROOT = Path(__file__).resolve().parents[3]
PROTOS = ROOT / "protos"

FDP = descriptor_pb2.FieldDescriptorProto
_BEHAVIOR_WORDS = {
    field_behavior_pb2.REQUIRED: "Required.",
    field_behavior_pb2.OPTIONAL: "Optional.",
    field_behavior_pb2.OUTPUT_ONLY: "Output only.",
}
_OPERATION = ".gx.type.v1.Operation"

# RPCs that only read although they are not Get/List: computations and blocking reads answered
# over POST. They need no request_id because replaying them is harmless by construction.
_READ_PREFIXES = ("Get", "List", "Preview", "Wait", "Check", "Search", "Batch Get")

# Mutating RPCs that deliberately carry no request_id, each with the reason written in its
# proto. Replaying them would mean storing fresh secrets (tokens) for replay, which must never
# happen; a retry simply opens another session.
NO_REQUEST_ID = {
    "gx.identity.v1.IdentityService.Login": "the answer holds fresh tokens that must not be stored",
    "gx.identity.v1.IdentityService.RefreshToken": "the answer holds fresh tokens that must not be stored",
    "gx.identity.v1.IdentityService.IssuePartnerToken": "the answer holds a fresh token that must not be stored",
    "gx.identity.v1.IdentityService.ChangePassword": "the answer holds fresh tokens that must not be stored",
    "gx.identity.v1.IdentityService.ResetPassword": "the single-use token is the request's identity: a repeat is refused",
    "gx.identity.v1.IdentityService.RequestPasswordReset": (
        "answers the same for every email without looking it up; repeats are bounded by its rate limits"
    ),
}

# Packages whose every mutating RPC is a ledger command (and so answers an Operation), and the
# ledger commands that live elsewhere. A new ledger command outside these must be added here,
# which is the point: whether a write reaches the ledger is a contract decision.
LEDGER_PACKAGES = {"gx.wallet.v1"}
LEDGER_RPCS_ELSEWHERE = {"gx.identity.v1.IdentityService.ApproveKyc"}
# Writes that record many commands of a type another RPC declares (one RPC per command) and
# answer their Operations in a list: not one ledger command each, so not held to the
# one-Operation rules. Their access rule must equal the declaring RPC's (tested with them).
BATCH_COMMAND_RPCS = {"gx.wallet.v1.TaxService.SweepVelocityTax"}

# Responses other than XxxResponse that are allowed, with the reason in the proto comment.
_SHARED_RESPONSES = {_OPERATION, ".google.api.HttpBody"}

# Field names that hold money and so must say their unit (`_qirat`) and be int64.
_MONEY_WORDS = re.compile(r"(^|_)(amount|balance|fee|price|supply|tax|total|net)(_|$)")
_NOT_MONEY_SUFFIXES = ("_bps", "_count", "_id", "_ids", "_time", "_hash", "_reason", "_type")


@dataclass
class Element:
    """One commentable element of a proto file."""

    kind: str
    full_name: str
    comment: str
    file: str


@dataclass
class Rpc:
    """One RPC with everything the rules look at."""

    package: str
    service: str
    name: str
    input_type: str
    output_type: str
    options: descriptor_pb2.MethodOptions
    file: str

    @property
    def full_name(self) -> str:
        """The RPC's full name, `pkg.Service.Method`."""
        return f"{self.package}.{self.service}.{self.name}"

    @property
    def http(self) -> http_pb2.HttpRule | None:
        """The google.api.http rule, or None."""
        if not self.options.HasExtension(annotations_pb2.http):
            return None
        return self.options.Extensions[annotations_pb2.http]

    @property
    def access(self) -> access_pb2.AccessRule | None:
        """The gx.type.v1.access rule, or None."""
        if not self.options.HasExtension(access_pb2.access):
            return None
        return self.options.Extensions[access_pb2.access]

    @property
    def records(self) -> int:
        """The gx.type.v1.records command type, or 0 (COMMAND_TYPE_UNSPECIFIED) without one."""
        if not self.options.HasExtension(command_pb2.records):
            return 0
        return int(self.options.Extensions[command_pb2.records])

    @property
    def http_verb(self) -> str:
        """The HTTP verb of the google.api.http rule, or '' without one."""
        rule = self.http
        return rule.WhichOneof("pattern") or "" if rule is not None else ""

    @property
    def is_read(self) -> bool:
        """True for RPCs that change nothing: HTTP GET, or a read-style name."""
        return self.http_verb == "get" or self.name.startswith(_READ_PREFIXES)


@dataclass
class Contracts:
    """Every gx.* proto file, compiled with source info, plus indexes over it."""

    files: list[descriptor_pb2.FileDescriptorProto]
    all_files: dict[str, descriptor_pb2.FileDescriptorProto]
    messages: dict[str, descriptor_pb2.DescriptorProto] = field(default_factory=dict)
    enums: dict[str, descriptor_pb2.EnumDescriptorProto] = field(default_factory=dict)
    elements: list[Element] = field(default_factory=list)
    rpcs: list[Rpc] = field(default_factory=list)
    nested_enums: list[str] = field(default_factory=list)
    option_messages: set[str] = field(default_factory=set)

    def gx_messages(self) -> Iterator[tuple[str, descriptor_pb2.DescriptorProto]]:
        """Yield (full name, message) for every message under gx.*, nested ones included."""
        for name, msg in self.messages.items():
            if name.startswith(".gx."):
                yield name, msg


def compile_descriptor_set(proto_roots: list[Path], files: list[str], out: Path) -> bytes:
    """Compile `files` with protoc (grpc_tools) into a FileDescriptorSet with source info.

    Args:
        proto_roots: Import roots, searched in order before the well-known and google protos.
        files: The proto files to compile, relative to one of the roots.
        out: Where to write the set.

    Returns:
        The serialized FileDescriptorSet, imports included.
    """
    import google.api

    site = Path(google.api.__path__[0]).parent.parent
    import grpc_tools

    well_known = Path(grpc_tools.__file__).parent / "_proto"
    cmd = [
        sys.executable,
        "-m",
        "grpc_tools.protoc",
        *(f"-I{root}" for root in proto_roots),
        f"-I{site}",
        f"-I{well_known}",
        "--include_imports",
        "--include_source_info",
        f"--descriptor_set_out={out}",
        *files,
    ]
    subprocess.run(cmd, check=True, capture_output=True, text=True)
    return out.read_bytes()


def gx_proto_files(root: Path = PROTOS) -> list[str]:
    """Every .proto under `root`/gx, relative to `root`."""
    return sorted(str(p.relative_to(root)) for p in (root / "gx").rglob("*.proto"))


def load(serialized_set: bytes, only: set[str] | None = None) -> Contracts:
    """Build the model from a serialized FileDescriptorSet.

    Args:
        serialized_set: The set, with source info and imports.
        only: If given, the file names to check; otherwise every file whose package is gx.*.
    """
    fds = descriptor_pb2.FileDescriptorSet.FromString(serialized_set)
    all_files = {f.name: f for f in fds.file}
    files = [f for f in fds.file if (f.name in only if only is not None else f.package.startswith("gx."))]
    model = Contracts(files=files, all_files=all_files)
    for f in fds.file:
        _index_types(model, f)
    for f in files:
        _collect(model, f)
    return model


def _index_types(model: Contracts, f: descriptor_pb2.FileDescriptorProto) -> None:
    def walk(prefix: str, msgs: list[descriptor_pb2.DescriptorProto]) -> None:
        for m in msgs:
            name = f"{prefix}.{m.name}"
            model.messages[name] = m
            for e in m.enum_type:
                model.enums[f"{name}.{e.name}"] = e
            walk(name, list(m.nested_type))

    prefix = f".{f.package}" if f.package else ""
    walk(prefix, list(f.message_type))
    for e in f.enum_type:
        model.enums[f"{prefix}.{e.name}"] = e
    for ext in f.extension:
        if ext.type == FDP.TYPE_MESSAGE:
            model.option_messages.add(ext.type_name)


def _collect(model: Contracts, f: descriptor_pb2.FileDescriptorProto) -> None:
    comments = {tuple(loc.path): loc.leading_comments.strip() for loc in f.source_code_info.location}

    def add(kind: str, name: str, path: tuple[int, ...]) -> None:
        model.elements.append(Element(kind, name, comments.get(path, ""), f.name))

    def walk_message(prefix: str, m: descriptor_pb2.DescriptorProto, path: tuple[int, ...]) -> None:
        name = f"{prefix}.{m.name}"
        add("message", name, path)
        for i, fld in enumerate(m.field):
            add("field", f"{name}.{fld.name}", (*path, 2, i))
        for i, oneof in enumerate(m.oneof_decl):
            # Synthetic oneofs of proto3 `optional` fields have no source of their own.
            if not any(fl.proto3_optional and fl.oneof_index == i for fl in m.field):
                add("oneof", f"{name}.{oneof.name}", (*path, 8, i))
        for i, e in enumerate(m.enum_type):
            model.nested_enums.append(f"{name}.{e.name}")
            walk_enum(name, e, (*path, 4, i))
        for i, nested in enumerate(m.nested_type):
            walk_message(name, nested, (*path, 3, i))

    def walk_enum(prefix: str, e: descriptor_pb2.EnumDescriptorProto, path: tuple[int, ...]) -> None:
        name = f"{prefix}.{e.name}"
        add("enum", name, path)
        for i, v in enumerate(e.value):
            add("enum value", f"{name}.{v.name}", (*path, 2, i))

    prefix = f".{f.package}"
    for i, m in enumerate(f.message_type):
        walk_message(prefix, m, (4, i))
    for i, e in enumerate(f.enum_type):
        walk_enum(prefix, e, (5, i))
    for i, ext in enumerate(f.extension):
        add("extension", f"{prefix}.{ext.name}", (7, i))
    for i, svc in enumerate(f.service):
        add("service", f"{prefix}.{svc.name}", (6, i))
        for j, method in enumerate(svc.method):
            add("rpc", f"{prefix}.{svc.name}.{method.name}", (6, i, 2, j))
            model.rpcs.append(
                Rpc(
                    f.package,
                    svc.name,
                    method.name,
                    method.input_type,
                    method.output_type,
                    method.options,
                    f.name,
                )
            )


def _behaviors(fld: descriptor_pb2.FieldDescriptorProto) -> list[int]:
    return list(fld.options.Extensions[field_behavior_pb2.field_behavior])


def _rules(fld: descriptor_pb2.FieldDescriptorProto) -> validation_pb2.FieldRules:
    return fld.options.Extensions[validation_pb2.field]


def check_comments(model: Contracts) -> list[str]:
    """Every element has a leading comment that is a full sentence (capital start, final stop)."""
    bad = []
    for el in model.elements:
        text = el.comment
        # buf:lint:ignore directives are machine lines, not prose; judge the prose before them.
        prose = "\n".join(ln for ln in text.splitlines() if not ln.strip().startswith("buf:lint:")).strip()
        if not prose:
            bad.append(f"{el.kind} {el.full_name} ({el.file}): no comment")
        elif not (prose[0].isupper() or prose[0] in "`(") or not prose.endswith((".", ".)")):
            bad.append(f"{el.kind} {el.full_name} ({el.file}): not a full sentence: {prose[:60]!r}")
    return bad


def api_messages(model: Contracts) -> dict[str, descriptor_pb2.DescriptorProto]:
    """The gx.* messages a client can see: RPC requests and responses and all they contain.

    Messages no RPC reaches (the ledger's wire messages, option messages) are internal
    encodings, so the API rules about field behavior do not apply to them.
    """
    seen: dict[str, descriptor_pb2.DescriptorProto] = {}
    todo = [t for rpc in model.rpcs for t in (rpc.input_type, rpc.output_type)]
    while todo:
        name = todo.pop()
        if name in seen or not name.startswith(".gx.") or name not in model.messages:
            continue
        msg = seen[name] = model.messages[name]
        todo += [f.type_name for f in msg.field if f.type == FDP.TYPE_MESSAGE]
    return seen


def check_field_behavior_mirrors_comments(model: Contracts) -> list[str]:
    """A field's comment starts Required./Optional./Output only. exactly when field_behavior says so.

    Every field of a message clients see must declare a behavior, except in response
    wrappers (everything in an answer is output) and in oneofs (a oneof's members are
    optional by nature; which one is required the comment says).
    """
    comments = {el.full_name: el.comment for el in model.elements if el.kind == "field"}
    bad = []
    for name, msg in api_messages(model).items():
        is_response = msg.name.endswith("Response")
        for fld in msg.field:
            fname = f"{name}.{fld.name}"
            if fname not in comments:
                continue  # a message of a file outside the checked set
            comment = comments[fname]
            words = [_BEHAVIOR_WORDS[b] for b in _behaviors(fld) if b in _BEHAVIOR_WORDS]
            if not words:
                if not is_response and not (fld.HasField("oneof_index") and not fld.proto3_optional):
                    bad.append(f"{fname}: no google.api.field_behavior (REQUIRED/OPTIONAL/OUTPUT_ONLY)")
                continue
            if len(set(words)) > 1:
                bad.append(f"{fname}: contradictory field_behavior {words}")
            elif not comment.startswith(words[0]):
                bad.append(f"{fname}: comment should start {words[0]!r}: {comment[:40]!r}")
    return bad


def check_http_rules(model: Contracts) -> list[str]:
    """Every RPC has a google.api.http rule with a /v1/ (or /.well-known/) path."""
    bad = []
    for rpc in model.rpcs:
        rule = rpc.http
        if rule is None:
            bad.append(f"{rpc.full_name}: no google.api.http rule")
            continue
        verb = rpc.http_verb
        path = getattr(rule, verb) if verb and verb != "custom" else rule.custom.path
        if not path.startswith(("/v1/", "/.well-known/")):
            bad.append(f"{rpc.full_name}: http path {path!r} is not versioned")
        if verb in ("post", "patch", "put") and not rule.body:
            bad.append(f"{rpc.full_name}: {verb} without a body mapping")
        if verb == "get" and rule.body:
            bad.append(f"{rpc.full_name}: GET with a body")
    return bad


def _field_path_exists(model: Contracts, message: str, path: str) -> bool:
    current = model.messages.get(message)
    for i, part in enumerate(path.split(".")):
        fld = next((f for f in current.field if f.name == part), None) if current else None
        if fld is None:
            return False
        if i < path.count("."):
            current = model.messages.get(fld.type_name)
    return True


def check_http_bindings_resolve(model: Contracts) -> list[str]:
    """Path variables and the body of every http rule name real request fields.

    Envoy's transcoder builds its routes from these at start-up, so a typo here is an edge that
    does not start; catching it in the contract keeps the error next to its cause.
    """
    bad = []
    for rpc in model.rpcs:
        rule = rpc.http
        if rule is None:
            continue
        verb = rpc.http_verb
        path = getattr(rule, verb) if verb and verb != "custom" else rule.custom.path
        for var in re.findall(r"\{([^}=]+)(?:=[^}]*)?\}", path):
            if not _field_path_exists(model, rpc.input_type, var):
                bad.append(f"{rpc.full_name}: path variable {{{var}}} is no request field")
        if rule.body not in ("", "*") and not _field_path_exists(model, rpc.input_type, rule.body):
            bad.append(f"{rpc.full_name}: body {rule.body!r} is no request field")
    return bad


def check_http_routes_unique(model: Contracts) -> list[str]:
    """No two RPCs, in any gx package, bind the same HTTP verb and path shape.

    Several services share path prefixes (`/v1/users/...` is identity's and wallet's admin), and
    one edge transcodes them all, so a clash would silently send a call to the wrong service.
    """
    seen: dict[tuple[str, str], str] = {}
    bad = []
    for rpc in model.rpcs:
        rule = rpc.http
        if rule is None:
            continue
        verb = rpc.http_verb
        path = getattr(rule, verb) if verb and verb != "custom" else rule.custom.path
        key = (verb, re.sub(r"\{[^}]*\}", "*", path))
        if key in seen:
            bad.append(f"{rpc.full_name}: {verb.upper()} {path} clashes with {seen[key]}")
        seen.setdefault(key, rpc.full_name)
    return bad


def check_access(model: Contracts) -> list[str]:
    """Every RPC declares who may call it: public, or at least one real role."""
    bad = []
    for rpc in model.rpcs:
        rule = rpc.access
        if rule is None:
            bad.append(f"{rpc.full_name}: no (gx.type.v1.access) option")
        elif not rule.public and not [r for r in rule.roles if r != access_pb2.ROLE_UNSPECIFIED]:
            bad.append(f"{rpc.full_name}: access rule admits nobody in particular (no public, no roles)")
        elif rule.public and rule.roles:
            bad.append(f"{rpc.full_name}: access rule is public and lists roles; pick one")
    return bad


def check_request_response_names(model: Contracts) -> list[str]:
    """Each RPC has its own XxxRequest and XxxResponse (or the shared Operation/HttpBody)."""
    bad = []
    for rpc in model.rpcs:
        pkg = f".{rpc.package}."
        if rpc.input_type != f"{pkg}{rpc.name}Request":
            bad.append(f"{rpc.full_name}: request is {rpc.input_type}, want {rpc.name}Request")
        if rpc.output_type not in (f"{pkg}{rpc.name}Response", *_SHARED_RESPONSES):
            bad.append(f"{rpc.full_name}: response is {rpc.output_type}, want {rpc.name}Response")
    return bad


def _request_id(model: Contracts, rpc: Rpc) -> descriptor_pb2.FieldDescriptorProto | None:
    msg = model.messages.get(rpc.input_type)
    if msg is None:
        return None
    return next((f for f in msg.field if f.name == "request_id"), None)


def check_request_ids(model: Contracts) -> list[str]:
    """Every mutating RPC has `string request_id` validated as a UUID; read RPCs have none."""
    bad = []
    for rpc in model.rpcs:
        rid = _request_id(model, rpc)
        if rpc.is_read:
            if rid is not None:
                bad.append(f"{rpc.full_name}: a read RPC with a request_id")
            continue
        if rid is None:
            if rpc.full_name not in NO_REQUEST_ID:
                bad.append(f"{rpc.full_name}: mutating RPC without request_id")
            continue
        if rid.type != FDP.TYPE_STRING or rid.label == FDP.LABEL_REPEATED:
            bad.append(f"{rpc.full_name}: request_id is not a singular string")
        if not _rules(rid).uuid:
            bad.append(f"{rpc.full_name}: request_id lacks (gx.type.v1.field).uuid = true")
    return bad


def command_rpcs(model: Contracts) -> list[Rpc]:
    """The RPCs that record a ledger command."""
    return [
        rpc
        for rpc in model.rpcs
        if not rpc.is_read
        and rpc.full_name not in BATCH_COMMAND_RPCS
        and (rpc.package in LEDGER_PACKAGES or rpc.full_name in LEDGER_RPCS_ELSEWHERE)
    ]


def check_commands_return_operations(model: Contracts) -> list[str]:
    """Ledger commands answer gx.type.v1.Operation with a REQUIRED request_id; nothing else does.

    The request_id is required (not optional) because it doubles as the chaincode's request
    id, which is what makes the ledger effect happen once.
    """
    bad = []
    commands = {rpc.full_name for rpc in command_rpcs(model)}
    for rpc in model.rpcs:
        returns_op = rpc.output_type == _OPERATION
        if rpc.full_name in commands:
            if not returns_op:
                bad.append(f"{rpc.full_name}: a ledger command must return gx.type.v1.Operation")
            rid = _request_id(model, rpc)
            if rid is None or field_behavior_pb2.REQUIRED not in _behaviors(rid):
                bad.append(f"{rpc.full_name}: a ledger command needs a REQUIRED request_id")
        elif returns_op and not (rpc.is_read and rpc.name.endswith("Operation")):
            bad.append(
                f"{rpc.full_name}: returns an Operation but is not a known ledger command "
                "(add it to LEDGER_RPCS_ELSEWHERE if it records one)"
            )
    return bad


def check_command_types_covered(model: Contracts) -> list[str]:
    """Every gx.type.v1.CommandType is named in the comment of a ledger-command RPC.

    This ties the outbox's command list to the public surface: a command with no RPC, or an
    RPC that does not say which command it records, shows up here.
    """
    enum = model.enums.get(".gx.type.v1.CommandType")
    if enum is None:
        return ["gx.type.v1.CommandType not found"]
    comments = {el.full_name: el.comment for el in model.elements if el.kind == "rpc"}
    texts = " ".join(comments.get(f".{rpc.full_name}", "") for rpc in command_rpcs(model))
    bad = []
    for value in enum.value:
        if value.number == 0:
            continue
        short = value.name.removeprefix("COMMAND_TYPE_")
        if not re.search(rf"\b{short}\b", texts):
            bad.append(f"CommandType {value.name}: no ledger-command RPC names {short} in its comment")
    return bad


def check_list_rpcs_page(model: Contracts) -> list[str]:
    """List RPCs take page_size (int32) and page_token (string) and answer next_page_token."""
    bad = []
    for rpc in model.rpcs:
        if not rpc.name.startswith("List"):
            continue
        req = {f.name: f for f in model.messages[rpc.input_type].field}
        resp = {f.name: f for f in model.messages[rpc.output_type].field}
        if req.get("page_size") is None or req["page_size"].type != FDP.TYPE_INT32:
            bad.append(f"{rpc.full_name}: no int32 page_size")
        if req.get("page_token") is None or req["page_token"].type != FDP.TYPE_STRING:
            bad.append(f"{rpc.full_name}: no string page_token")
        if resp.get("next_page_token") is None or resp["next_page_token"].type != FDP.TYPE_STRING:
            bad.append(f"{rpc.full_name}: response has no string next_page_token")
    return bad


def check_no_floating_point(model: Contracts) -> list[str]:
    """No float or double field anywhere under gx.*: money and counts are integers."""
    return [
        f"{name}.{fld.name}: {FDP.Type.Name(fld.type)}"
        for name, msg in model.gx_messages()
        for fld in msg.field
        if fld.type in (FDP.TYPE_FLOAT, FDP.TYPE_DOUBLE)
        or fld.type_name in (".google.protobuf.FloatValue", ".google.protobuf.DoubleValue")
    ]


def check_money_fields(model: Contracts) -> list[str]:
    """Money fields are int64 and named `*_qirat`; no money-sounding field hides its unit."""
    bad = []
    for name, msg in model.gx_messages():
        for fld in msg.field:
            fname = f"{name}.{fld.name}"
            if fld.name.endswith("_qirat"):
                if fld.type != FDP.TYPE_INT64 or fld.label == FDP.LABEL_REPEATED:
                    bad.append(f"{fname}: money must be a singular int64, is {FDP.Type.Name(fld.type)}")
            elif (
                _MONEY_WORDS.search(fld.name)
                and not fld.name.endswith(_NOT_MONEY_SUFFIXES)
                and fld.type
                in (
                    FDP.TYPE_INT32,
                    FDP.TYPE_INT64,
                    FDP.TYPE_UINT32,
                    FDP.TYPE_UINT64,
                    FDP.TYPE_SINT64,
                    FDP.TYPE_STRING,
                    FDP.TYPE_FLOAT,
                    FDP.TYPE_DOUBLE,
                )
            ):
                bad.append(f"{fname}: looks like money; name it *_qirat (int64) or use a unit suffix")
    return bad


def check_money_inputs_positive(model: Contracts) -> list[str]:
    """Amounts a caller sends (`amount_qirat` in RPC requests) must be validated `gt`."""
    bad = []
    for name in {rpc.input_type for rpc in model.rpcs}:
        msg = model.messages[name]
        for fld in msg.field:
            if fld.name == "amount_qirat":
                rules = _rules(fld)
                if not rules.HasField("gt") or rules.gt < 0:
                    bad.append(f"{name}.{fld.name}: input amount without (gx.type.v1.field).gt >= 0")
    return bad


def check_enums(model: Contracts) -> list[str]:
    """Enums are top level, every value carries the UPPER_SNAKE prefix, and 0 is _UNSPECIFIED."""
    bad = [f"{name}: nested enum; declare it at file level" for name in model.nested_enums]
    for f in model.files:
        for e in f.enum_type:
            prefix = re.sub(r"(?<!^)(?=[A-Z])", "_", e.name).upper() + "_"
            full = f"{f.package}.{e.name}"
            if not e.value or e.value[0].number != 0 or e.value[0].name != f"{prefix}UNSPECIFIED":
                bad.append(f"{full}: first value must be {prefix}UNSPECIFIED = 0")
            bad += [
                f"{full}.{v.name}: not prefixed {prefix}" for v in e.value if not v.name.startswith(prefix)
            ]
    return bad


ALL_CHECKS = [
    check_comments,
    check_field_behavior_mirrors_comments,
    check_http_rules,
    check_http_bindings_resolve,
    check_http_routes_unique,
    check_access,
    check_request_response_names,
    check_request_ids,
    check_commands_return_operations,
    check_command_types_covered,
    check_list_rpcs_page,
    check_no_floating_point,
    check_money_fields,
    check_money_inputs_positive,
    check_enums,
]


# --- the API is never more permissive than the ledger ------------------------------------------

# The ledger identity whose authority a caller of each API role exercises. The backend is
# custodial: users' and partners' commands are submitted under the shared gx_partner_api
# identity (the chaincode then checks who acts from the payload), while an admin's or
# super-admin's command is submitted under gx_admin or gx_super_admin. So an RPC whose command
# needs gx_admin on the chain must not admit ROLE_USER or ROLE_PARTNER: the chain would refuse
# the command after the API accepted it (or, worse, a laxer submitter would be configured to
# make it pass). Written once, here, and used by every check below.
LEDGER_ROLE_OF_API_ROLE = {
    access_pb2.ROLE_USER: "gx_partner_api",
    access_pb2.ROLE_PARTNER: "gx_partner_api",
    access_pb2.ROLE_ADMIN: "gx_admin",
    access_pb2.ROLE_SUPER_ADMIN: "gx_super_admin",
}


def ledger_commands(model: Contracts) -> dict[int, tuple[str, options_pb2.CommandOptions]]:
    """Every command type bound by a `(gx.ledger.v1.command)` message: type → (message, options)."""
    found: dict[int, tuple[str, options_pb2.CommandOptions]] = {}
    for name, msg in model.gx_messages():
        if msg.options.HasExtension(options_pb2.command):
            opts = msg.options.Extensions[options_pb2.command]
            found[int(opts.type)] = (name, opts)
    return found


def check_operations_declare_records(model: Contracts) -> list[str]:
    """Every RPC that answers a new Operation declares the command it records; no other RPC does.

    Reads of an operation (GetOperation, WaitOperation) answer one but record nothing. The
    declared command must be bound to a ledger request message, or the outbox could not run it.
    """
    bad = []
    bound = ledger_commands(model)
    for rpc in model.rpcs:
        records_one = rpc.output_type == _OPERATION and not rpc.is_read
        if records_one and not rpc.records:
            bad.append(f"{rpc.full_name}: answers an Operation but declares no (gx.type.v1.records)")
        elif rpc.records and not records_one:
            bad.append(f"{rpc.full_name}: declares (gx.type.v1.records) but records no Operation")
        elif rpc.records and rpc.records not in bound:
            bad.append(f"{rpc.full_name}: records command type {rpc.records}, which no ledger message binds")
    return bad


def check_access_at_least_submitter(model: Contracts) -> list[str]:
    """No RPC admits a role weaker than the ledger identity that submits the command it records.

    The two sides are the RPC's `(gx.type.v1.access)` roles and the `submitter_role` of the
    `(gx.ledger.v1.command)` option on the recorded command's request message; roles compare
    through LEDGER_ROLE_OF_API_ROLE and the chaincode's own rank order.
    """
    bad = []
    bound = ledger_commands(model)
    for rpc in model.rpcs:
        if not rpc.records or rpc.records not in bound:
            continue
        message, opts = bound[rpc.records]
        rule = rpc.access
        if rule is None or rule.public or not rule.roles:
            bad.append(
                f"{rpc.full_name}: admits any caller, but {message} is submitted as {opts.submitter_role}"
            )
            continue
        for role in rule.roles:
            ledger_role = LEDGER_ROLE_OF_API_ROLE.get(role)
            if ledger_role is None or not certs.role_at_least(ledger_role, opts.submitter_role):
                bad.append(
                    f"{rpc.full_name}: admits {access_pb2.Role.Name(role)} (~{ledger_role}), weaker than"
                    f" {opts.submitter_role} that submits {message}"
                )
    return bad


def check_each_command_recorded_once(model: Contracts) -> list[str]:
    """Each command type is recorded by at most one RPC, so its submitter has one API gate."""
    seen: dict[int, str] = {}
    bad = []
    for rpc in model.rpcs:
        if not rpc.records:
            continue
        if rpc.records in seen:
            bad.append(f"{rpc.full_name}: records command type {rpc.records}, as {seen[rpc.records]} does")
        seen.setdefault(rpc.records, rpc.full_name)
    return bad


SUBMITTER_CHECKS = [
    check_operations_declare_records,
    check_access_at_least_submitter,
    check_each_command_recorded_once,
]
