"""A test-only proto service built in code (never under protos/) to exercise the runtime's interceptors.

It carries validation rules and access options like a real GX contract, so the tests do
not depend on any service's protos changing.
"""

from __future__ import annotations

from typing import Any

from google.api import field_behavior_pb2
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
from gx.type.v1 import access_pb2, validation_pb2

PACKAGE = "gxtest.runtime.v1"
SERVICE = f"{PACKAGE}.RuntimeTestService"

_F = descriptor_pb2.FieldDescriptorProto


def _field(msg: descriptor_pb2.DescriptorProto, name: str, number: int, ftype: int, **kw: Any) -> _F:
    f = msg.field.add(name=name, number=number, type=ftype, label=kw.pop("label", _F.LABEL_OPTIONAL))
    if "type_name" in kw:
        f.type_name = kw.pop("type_name")
    if kw.pop("required", False):
        f.options.Extensions[field_behavior_pb2.field_behavior].append(field_behavior_pb2.REQUIRED)
    if kw.pop("output_only", False):
        f.options.Extensions[field_behavior_pb2.field_behavior].append(field_behavior_pb2.OUTPUT_ONLY)
    if kw.pop("proto3_optional", False):
        f.proto3_optional = True
        f.oneof_index = kw.pop("oneof_index")
    rules = f.options.Extensions[validation_pb2.field]
    for key, value in kw.items():
        setattr(rules, key, value)
    return f


def _build() -> descriptor_pb2.FileDescriptorProto:
    fdp = descriptor_pb2.FileDescriptorProto(
        name="gxtest/runtime/v1/runtime_test.proto",
        package=PACKAGE,
        syntax="proto3",
        dependency=[
            "google/api/field_behavior.proto",
            "gx/type/v1/validation.proto",
            "gx/type/v1/access.proto",
        ],
    )
    color = fdp.enum_type.add(name="Color")
    color.value.add(name="COLOR_UNSPECIFIED", number=0)
    color.value.add(name="COLOR_RED", number=1)

    address = fdp.message_type.add(name="Address")
    _field(address, "country_code", 1, _F.TYPE_STRING, required=True, pattern="[A-Z]{2}")

    doc = fdp.message_type.add(name="Document")
    _field(doc, "sha256", 1, _F.TYPE_STRING, required=True, pattern="[0-9a-f]{64}")

    echo = fdp.message_type.add(name="EchoRequest")
    _field(echo, "request_id", 1, _F.TYPE_STRING, uuid=True)
    _field(echo, "email", 2, _F.TYPE_STRING, required=True, email=True)
    _field(echo, "name", 3, _F.TYPE_STRING, min_len=2, max_len=5)
    _field(echo, "amount", 4, _F.TYPE_INT64, gt=0)
    _field(echo, "page_size", 5, _F.TYPE_INT32, gte=0, lte=100)
    _field(echo, "address", 6, _F.TYPE_MESSAGE, type_name=f".{PACKAGE}.Address")
    _field(
        echo,
        "documents",
        7,
        _F.TYPE_MESSAGE,
        type_name=f".{PACKAGE}.Document",
        label=_F.LABEL_REPEATED,
        max_items=2,
    )
    _field(echo, "tags", 8, _F.TYPE_STRING, label=_F.LABEL_REPEATED, pattern="[a-z]+", max_items=3)
    _field(echo, "color", 9, _F.TYPE_ENUM, type_name=f".{PACKAGE}.Color", enum_defined=True)
    _field(echo, "server_note", 10, _F.TYPE_STRING, output_only=True, required=True)
    echo.oneof_decl.add(name="_limit")
    _field(echo, "limit", 11, _F.TYPE_INT64, proto3_optional=True, oneof_index=0, gte=1)
    _field(echo, "mode", 12, _F.TYPE_STRING)

    response = fdp.message_type.add(name="EchoResponse")
    _field(response, "message", 1, _F.TYPE_STRING)
    _field(response, "user_id", 2, _F.TYPE_STRING)
    _field(response, "request_id", 3, _F.TYPE_STRING)
    _field(response, "roles", 4, _F.TYPE_STRING, label=_F.LABEL_REPEATED)

    svc = fdp.service.add(name="RuntimeTestService")
    for name, access in (
        ("Echo", None),
        ("PublicEcho", {"public": True}),
        ("AdminEcho", {"roles": [access_pb2.ROLE_ADMIN, access_pb2.ROLE_SUPER_ADMIN]}),
        ("StreamEcho", {"public": True}),
    ):
        m = svc.method.add(
            name=name, input_type=f".{PACKAGE}.EchoRequest", output_type=f".{PACKAGE}.EchoResponse"
        )
        if name == "StreamEcho":
            m.server_streaming = True
        if access is not None:
            rule = m.options.Extensions[access_pb2.access]
            rule.public = access.get("public", False)
            rule.roles.extend(access.get("roles", []))
    return fdp


def _load() -> tuple[type, type, type, type, type]:
    pool = descriptor_pool.Default()
    try:
        pool.FindFileByName("gxtest/runtime/v1/runtime_test.proto")
    except KeyError:
        pool.AddSerializedFile(_build().SerializeToString())
    classes = [
        message_factory.GetMessageClass(pool.FindMessageTypeByName(f"{PACKAGE}.{n}"))
        for n in ("EchoRequest", "EchoResponse", "Address", "Document")
    ]
    return classes[0], classes[1], classes[2], classes[3], type(None)


EchoRequest, EchoResponse, Address, Document, _ = _load()
COLOR_RED = 1
