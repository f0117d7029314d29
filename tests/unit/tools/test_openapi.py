"""tools/openapi.py: the OpenAPI 3.1 document generated from the real descriptor set of protos/."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

import pytest
from google.api import annotations_pb2
from google.protobuf import descriptor_pb2
from openapi_schema_validator import OAS31Validator
from openapi_spec_validator import validate

from devstack.config import REPO_ROOT
from edge.descriptor import build

sys.path.insert(0, str(REPO_ROOT / "tools"))

import openapi
from openapi_schema import OpenApiError, generate


@pytest.fixture(scope="module")
def descriptor(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    return build(REPO_ROOT, tmp_path_factory.mktemp("desc") / "gx.binpb").read_bytes()


@pytest.fixture(scope="module")
def doc(descriptor: bytes) -> dict[str, Any]:
    return generate(descriptor)


def _op(doc: dict[str, Any], path: str, verb: str) -> dict[str, Any]:
    return doc["paths"][path][verb]


def _schema(doc: dict[str, Any], name: str) -> dict[str, Any]:
    return doc["components"]["schemas"][name]


def test_it_is_valid_openapi_3_1(doc: dict[str, Any]) -> None:
    assert doc["openapi"] == "3.1.0"
    validate(doc)  # type: ignore[arg-type]


def test_the_committed_document_is_current(tmp_path: Path) -> None:
    # What `make lint` runs: the file in gen/openapi equals a fresh generation.
    assert openapi.main(["--check"]) == 0
    stale = tmp_path / "openapi.json"
    stale.write_text("{}\n")
    assert openapi.main(["--check", "--out", str(stale)]) == 1


def test_every_rpc_of_every_gx_service_is_an_operation(doc: dict[str, Any], descriptor: bytes) -> None:
    fds = descriptor_pb2.FileDescriptorSet.FromString(descriptor)
    expected = {
        f"{svc.name}_{m.name}"
        for f in fds.file
        if f.package.startswith("gx.")
        for svc in f.service
        for m in svc.method
    }
    ids = {op["operationId"] for methods in doc["paths"].values() for op in methods.values()}
    assert expected and expected <= ids


def test_http_rule_path_verb_and_body(doc: dict[str, Any]) -> None:
    transfer = _op(doc, "/v1/wallets/{walletId}:transfer", "post")
    params = {p["name"]: p for p in transfer["parameters"]}
    assert params["walletId"]["in"] == "path" and params["walletId"]["required"] is True
    body = transfer["requestBody"]["content"]["application/json"]["schema"]
    # The path field is not repeated in the body.
    assert "walletId" not in body["properties"] and "amountQirat" in body["properties"]
    # A named body field: PATCH /v1/users/{user.userId} takes the user as its body.
    update = next(
        op
        for path, m in doc["paths"].items()
        for v, op in m.items()
        if op["operationId"] == "IdentityService_UpdateUser"
    )
    assert update["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/gx.identity.v1.User"
    }


def test_proto3_json_mapping(doc: dict[str, Any]) -> None:
    body = _op(doc, "/v1/wallets/{walletId}:transfer", "post")["requestBody"]["content"]["application/json"][
        "schema"
    ]
    amount = body["properties"]["amountQirat"]
    assert amount["type"] == "string" and amount["format"] == "int64"
    assert amount["x-gx-range"] == {"gt": 0}
    # A positive 64-bit integer is a decimal string without sign or leading zero.
    assert amount["pattern"] == "^[1-9][0-9]*$"
    operation = _schema(doc, "gx.type.v1.Operation")["properties"]
    state = _schema(doc, operation["state"]["$ref"].rsplit("/", 1)[1])
    assert state["type"] == "string" and "OPERATION_STATE_COMMITTED" in state["enum"]
    assert _schema(doc, "google.protobuf.Timestamp")["format"] == "date-time"
    assert _schema(doc, "google.protobuf.Duration")["pattern"].endswith("s$")


def test_field_behavior_and_validation_rules(doc: dict[str, Any]) -> None:
    register = _schema(doc, "gx.identity.v1.RegisterUserRequest")
    assert set(register["required"]) >= {"email", "password"}
    password = register["properties"]["password"]
    assert password["minLength"] == 12 and password["writeOnly"] is True
    assert register["properties"]["email"]["format"] == "email"
    assert register["properties"]["countryCode"]["pattern"] == "^(?:[A-Z]{2})$"
    user = _schema(doc, "gx.identity.v1.User")["properties"]
    assert user["createTime"]["readOnly"] is True


def test_comments_become_descriptions(doc: dict[str, Any]) -> None:
    transfer = _op(doc, "/v1/wallets/{walletId}:transfer", "post")
    assert "TRANSFER_TOKENS" in transfer["summary"]
    assert _schema(doc, "gx.identity.v1.RegisterUserRequest")["description"].startswith("RegisterUserRequest")


def test_commands_answer_202_with_an_operation_and_reads_200(doc: dict[str, Any]) -> None:
    transfer = _op(doc, "/v1/wallets/{walletId}:transfer", "post")["responses"]
    assert set(transfer) == {"202", "400", "401", "default"}
    assert transfer["202"]["content"]["application/json"]["schema"]["$ref"].endswith("/gx.type.v1.Operation")
    get = _op(doc, "/v1/operations/{operationId}", "get")["responses"]
    assert set(get) == {"200", "400", "401", "default"}


def test_errors_are_google_rpc_status_with_details(doc: dict[str, Any]) -> None:
    error = doc["components"]["responses"]["Error"]["content"]["application/json"]["schema"]
    status = _schema(doc, error["$ref"].rsplit("/", 1)[1])
    assert status["required"] == ["code", "message"]
    kinds = [item["$ref"].rsplit("/", 1)[1] for item in status["properties"]["details"]["items"]["anyOf"]]
    assert "google.rpc.ErrorInfo" in kinds and "google.rpc.BadRequest" in kinds
    assert _schema(doc, "google.rpc.ErrorInfo")["properties"]["@type"]["const"].endswith(
        "google.rpc.ErrorInfo"
    )
    for methods in doc["paths"].values():
        for op in methods.values():
            assert op["responses"]["default"] == {"$ref": "#/components/responses/Error"}
            assert op["responses"]["400"] == {"$ref": "#/components/responses/BadRequest"}
            assert ("401" in op["responses"]) == (op["security"] != [])


def test_security_and_idempotency_key(doc: dict[str, Any]) -> None:
    schemes = doc["components"]["securitySchemes"]
    assert schemes["bearerAuth"]["bearerFormat"] == "JWT" and schemes["apiKey"]["name"] == "X-API-Key"
    assert _op(doc, "/v1/users:register", "post")["security"] == []
    assert {"bearerAuth": []} in _op(doc, "/v1/wallets/{walletId}:transfer", "post")["security"]
    headers = [
        p for p in _op(doc, "/v1/wallets/{walletId}:transfer", "post")["parameters"] if p["in"] == "header"
    ]
    assert [h["name"] for h in headers] == ["Idempotency-Key"]


def _mutated(descriptor: bytes, change: Any) -> bytes:
    fds = descriptor_pb2.FileDescriptorSet.FromString(descriptor)
    for file in fds.file:
        if file.package == "gx.wallet.v1":
            for svc in file.service:
                if svc.name == "WalletService":
                    change(file, svc)
                    return fds.SerializeToString()
    raise AssertionError("no WalletService")


def test_an_rpc_without_an_http_rule_fails_loudly(descriptor: bytes) -> None:
    def drop_rule(_file: Any, svc: Any) -> None:
        svc.method[0].options.ClearExtension(annotations_pb2.http)

    with pytest.raises(OpenApiError, match=r"has no google\.api\.http rule"):
        generate(_mutated(descriptor, drop_rule))


def test_a_field_it_cannot_map_fails_loudly(descriptor: bytes) -> None:
    def group_field(file: Any, svc: Any) -> None:
        method = next(m for m in svc.method if m.name == "GetWallet")
        request = next(m for m in file.message_type if f".{file.package}.{m.name}" == method.input_type)
        request.field.add(
            name="odd", number=999, type=descriptor_pb2.FieldDescriptorProto.TYPE_GROUP, json_name="odd"
        )

    with pytest.raises(OpenApiError, match="odd"):
        generate(_mutated(descriptor, group_field))


def test_a_repeated_message_in_a_query_fails_loudly(descriptor: bytes) -> None:
    def repeated_message(file: Any, svc: Any) -> None:
        method = next(m for m in svc.method if m.name == "GetWallet")
        request = next(m for m in file.message_type if f".{file.package}.{m.name}" == method.input_type)
        request.field.add(
            name="filters",
            number=998,
            type=descriptor_pb2.FieldDescriptorProto.TYPE_MESSAGE,
            label=descriptor_pb2.FieldDescriptorProto.LABEL_REPEATED,
            type_name=".google.protobuf.Any",
            json_name="filters",
        )

    with pytest.raises(OpenApiError, match="filters"):
        generate(_mutated(descriptor, repeated_message))


def test_two_rpcs_on_one_path_and_verb_fail_loudly(descriptor: bytes) -> None:
    def duplicate(_file: Any, svc: Any) -> None:
        first, second = svc.method[0], svc.method[1]
        second.options.Extensions[annotations_pb2.http].CopyFrom(
            first.options.Extensions[annotations_pb2.http]
        )

    with pytest.raises(OpenApiError, match="bound twice"):
        generate(_mutated(descriptor, duplicate))


def test_the_file_is_json_with_every_schema_reference_resolvable() -> None:
    text = openapi.OUTPUT.read_text()
    doc = json.loads(text)
    refs = {ref.rsplit("/", 1)[1] for ref in _refs(doc) if ref.startswith("#/components/schemas/")}
    assert refs <= set(doc["components"]["schemas"])


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return found + [r for value in node.values() for r in _refs(value)]
    if isinstance(node, list):
        return [r for value in node for r in _refs(value)]
    return []


def test_paths_of_one_shape_share_their_variable_names(doc: dict[str, Any]) -> None:
    # GET /v1/users/{user_id} and PATCH /v1/users/{user.user_id} are one OpenAPI path.
    assert "/v1/users/{user.userId}" not in doc["paths"]
    update = doc["paths"]["/v1/users/{userId}"]["patch"]
    param = next(p for p in update["parameters"] if p["in"] == "path")
    assert param["name"] == "userId" and "user.user_id" in param["description"]
    shapes = [re.sub(r"\{[^}]+\}", "{}", path) for path in doc["paths"]]
    assert len(shapes) == len(set(shapes))


def test_an_enum_the_caller_must_choose_refuses_its_zero_value(doc: dict[str, Any]) -> None:
    refusals = [
        node["not"]["const"]
        for node in _nodes(doc)
        if isinstance(node.get("not"), dict) and "const" in node["not"]
    ]
    assert refusals and all(value.endswith("_UNSPECIFIED") for value in refusals)


def _nodes(node: Any) -> list[dict[str, Any]]:
    if isinstance(node, dict):
        return [node] + [n for value in node.values() for n in _nodes(value)]
    if isinstance(node, list):
        return [n for value in node for n in _nodes(value)]
    return []


def test_path_variables_are_plain_identifiers(doc: dict[str, Any]) -> None:
    # A dotted name ({license.partnerId}) broke schemathesis, which fills `{name}` with Python's
    # str.format (a dot is attribute access there); SDK generators do the same.
    names = [v for path in doc["paths"] for v in re.findall(r"\{([^}]+)\}", path)]
    assert names and all(re.fullmatch(r"[a-z][A-Za-z0-9]*", n) for n in names), names
    update = doc["paths"]["/v1/partners/{partnerId}/licenses/{licenseId}"]["patch"]
    described = {p["name"]: p["description"] for p in update["parameters"] if p["in"] == "path"}
    assert described == {
        "partnerId": "The request's `license.partner_id` field.",
        "licenseId": "The request's `license.license_id` field.",
    }
    assert "get" in doc["paths"]["/v1/partners/{partnerId}/licenses/{licenseId}"]


def test_a_message_admits_no_key_it_does_not_have(doc: dict[str, Any]) -> None:
    # The edge answers 400 UNKNOWN_FIELD for one (edge/validate.lua); schemathesis found the
    # document promising otherwise (its valid cases with extra keys were refused).
    messages = {
        n: s
        for n, s in doc["components"]["schemas"].items()
        if s.get("type") == "object" and "properties" in s
    }
    closed = {n for n, s in messages.items() if s.get("additionalProperties") is False}
    open_ones = set(messages) - closed
    # Only the error shape and the well-known open types stay open (a Status may carry any detail).
    assert open_ones <= {"google.rpc.Status", "google.protobuf.Any"}, sorted(open_ones)
    assert {"gx.identity.v1.LoginRequest", "google.rpc.ErrorInfo"} <= closed
    # A body written inline (the path's fields left out) is closed too.
    transfer = _op(doc, "/v1/wallets/{walletId}:transfer", "post")["requestBody"]["content"][
        "application/json"
    ]
    assert transfer["schema"]["additionalProperties"] is False


def test_a_required_field_refuses_its_empty_value(doc: dict[str, Any]) -> None:
    # The services treat "" (and an empty list, an enum's zero) as unset: "is required" (400).
    login = _schema(doc, "gx.identity.v1.LoginRequest")["properties"]
    assert login["email"]["minLength"] >= 1 and login["password"]["minLength"] == 1
    assert _schema(doc, "gx.identity.v1.RefreshTokenRequest")["properties"]["refreshToken"]["minLength"] == 1
    tier = _schema(doc, "gx.licensing.v1.License")["properties"]["tier"]
    assert tier["not"] == {"const": "LICENSE_TIER_UNSPECIFIED"}


def test_two_members_of_a_oneof_are_refused(doc: dict[str, Any]) -> None:
    # The transcoder answers 400 when a body sets both; schemathesis found the document allowing it.
    body = _op(doc, "/v1/wallets/{walletId}:transfer", "post")["requestBody"]["content"]["application/json"]
    assert body["schema"]["x-gx-oneof"] == {"recipient": ["toUserId", "toWalletId"]}
    assert [n["not"]["required"] for n in body["schema"]["allOf"]] == [["toUserId", "toWalletId"]]
    check = OAS31Validator({**body["schema"], "components": doc["components"]})
    ok = {"requestId": "0b7c2a8e-8a4b-4a43-9a55-3f1f7a9e2c11", "amountQirat": "5", "toUserId": "me"}
    assert not [e.message for e in check.iter_errors(ok) if "allOf" in list(e.schema_path)]
    assert [e for e in check.iter_errors({**ok, "toWalletId": "x"}) if "allOf" in list(e.schema_path)]
