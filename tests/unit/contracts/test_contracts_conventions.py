"""The gx.* contracts (every package, present and future) follow the API conventions of protos/gx/README.md."""

from __future__ import annotations

import importlib
import json
from collections.abc import Callable, Iterable

import pytest
from google.protobuf import descriptor_pb2

from tests.unit.contracts.contract_rules import (
    ALL_CHECKS,
    PROTOS,
    Contracts,
    command_rpcs,
    compile_descriptor_set,
    gx_proto_files,
    load,
)


def _clear_json_names(messages: Iterable[descriptor_pb2.DescriptorProto]) -> None:
    # protoc's descriptor sets carry json_name; the Python generator strips it.
    for msg in messages:
        for fld in list(msg.field) + list(msg.extension):
            fld.ClearField("json_name")
        _clear_json_names(msg.nested_type)


@pytest.fixture(scope="module")
def compiled(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """Every proto under protos/gx compiled with source info (comments live only there)."""
    out = tmp_path_factory.mktemp("contracts") / "gx.binpb"
    return compile_descriptor_set([PROTOS], gx_proto_files(), out)


@pytest.fixture(scope="module")
def contracts(compiled: bytes) -> Contracts:
    """The model the convention checks run over."""
    return load(compiled)


@pytest.mark.parametrize("check", ALL_CHECKS, ids=lambda c: c.__name__.removeprefix("check_"))
def test_gx_contracts_follow_the_convention(
    contracts: Contracts, check: Callable[[Contracts], list[str]]
) -> None:
    assert check(contracts) == []


def test_the_checks_see_every_public_package(contracts: Contracts) -> None:
    # Guards against a vacuous pass: the model must hold the services the API promises.
    services = {f"{rpc.package}.{rpc.service}" for rpc in contracts.rpcs}
    assert {
        "gx.identity.v1.IdentityService",
        "gx.wallet.v1.WalletService",
        "gx.wallet.v1.AdminService",
        "gx.wallet.v1.OrganizationService",
        "gx.wallet.v1.LoanService",
        "gx.wallet.v1.GovernanceService",
        "gx.wallet.v1.TaxService",
        "gx.licensing.v1.LicensingService",
    } <= services
    assert len(command_rpcs(contracts)) >= 26


def test_generated_code_is_compiled_from_these_protos(compiled: bytes) -> None:
    # The checks read protoc's fresh output; the services import gen/python. They must agree,
    # or the conventions would be proven for code nobody runs.
    modules = {
        name: importlib.import_module(name.removesuffix(".proto").replace("/", ".") + "_pb2")
        for name in gx_proto_files()
    }
    # Parsed only now, after every generated module registered its option extensions, so
    # both sides hold the same options as parsed extensions rather than unknown fields.
    fresh = {f.name: f for f in descriptor_pb2.FileDescriptorSet.FromString(compiled).file}
    stale = []
    for name, module in modules.items():
        generated = descriptor_pb2.FileDescriptorProto.FromString(module.DESCRIPTOR.serialized_pb)
        expected = descriptor_pb2.FileDescriptorProto()
        expected.CopyFrom(fresh[name])
        expected.ClearField("source_code_info")
        _clear_json_names(expected.message_type)
        for ext in expected.extension:
            ext.ClearField("json_name")
        if generated != expected:
            stale.append(name)
    assert stale == [], "gen/python is stale for these protos; run `make gen`"


def test_grpc_service_configs_retry_only_safe_methods(contracts: Contracts) -> None:
    # Client retry policies live beside the protos (<domain>_grpc_service_config.json). A retried
    # method must exist and be safe to repeat: a read, or a write protected by request_id.
    configs = sorted(PROTOS.glob("gx/*/v1/*_grpc_service_config.json"))
    assert configs, "no gRPC service config found"
    rpcs = {(f"{r.package}.{r.service}", r.name): r for r in contracts.rpcs}
    problems = []
    for path in configs:
        for method_config in json.loads(path.read_text())["methodConfig"]:
            policy = method_config.get("retryPolicy")
            for name in method_config["name"]:
                rpc = rpcs.get((name["service"], name.get("method", "")))
                if rpc is None:
                    problems.append(f"{path.name}: unknown method {name}")
                elif (
                    policy
                    and not rpc.is_read
                    and not any(f.name == "request_id" for f in contracts.messages[rpc.input_type].field)
                ):
                    problems.append(f"{path.name}: retries {rpc.full_name}, a write without request_id")
            if policy and policy["retryableStatusCodes"] != ["UNAVAILABLE"]:
                problems.append(
                    f"{path.name}: retries on {policy['retryableStatusCodes']}, want UNAVAILABLE only"
                )
    assert problems == []
