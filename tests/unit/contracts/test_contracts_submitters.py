"""The API is at least as strict as the ledger: generated from the compiled descriptors.

For every RPC that records a ledger command, each role its `(gx.type.v1.access)` rule admits must
map to a ledger identity at least as strong as the `submitter_role` of the command's request
message (`gx.ledger.v1.command`). Broken variants of the real protos prove the checks bite, and a
scan of the chaincode proves it declares no role requirement the protos do not (the government
organisation used to be one: a payload value that silently needed gx_admin).
"""

from __future__ import annotations

import ast
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.unit.contracts.contract_rules import (
    PROTOS,
    ROOT,
    SUBMITTER_CHECKS,
    Contracts,
    check_access_at_least_submitter,
    check_each_command_recorded_once,
    check_operations_declare_records,
    compile_descriptor_set,
    gx_proto_files,
    load,
)

# Role checks in chaincode code that no proto option declares, each with why no RPC can reach
# it with a weaker submitter. Anything else found by the scan is a rule the API cannot see.
_UNDECLARED_ROLE_CHECKS = {
    # Transfer always sends from the caller's own user account (the service sets from_account_id
    # to the caller), so no RPC records a TRANSFER_TOKENS whose source is a treasury.
    ("chaincode/contracts/token.py", "_transfer"),
}


def _compile(root: Path, tmp: Path) -> Contracts:
    return load(compile_descriptor_set([root], gx_proto_files(root), tmp / "gx.binpb"))


@pytest.fixture(scope="module")
def contracts(tmp_path_factory: pytest.TempPathFactory) -> Contracts:
    """Every proto under protos/gx, compiled with source info."""
    return _compile(PROTOS, tmp_path_factory.mktemp("submitters"))


@pytest.mark.parametrize("check", SUBMITTER_CHECKS, ids=lambda c: c.__name__.removeprefix("check_"))
def test_no_rpc_admits_a_role_weaker_than_its_ledger_submitter(
    contracts: Contracts, check: Callable[[Contracts], list[str]]
) -> None:
    assert check(contracts) == []


def test_every_command_type_is_recorded_by_an_rpc(contracts: Contracts) -> None:
    # Guards against a vacuous pass: the checks above only look at RPCs that declare a command.
    recorded = {rpc.records for rpc in contracts.rpcs if rpc.records}
    enum = contracts.enums[".gx.type.v1.CommandType"]
    assert recorded == {v.number for v in enum.value if v.number != 0}


def _broken(tmp: Path, edits: dict[str, list[tuple[str, str]]]) -> Contracts:
    """The real protos copied to `tmp`, with textual (old, new) edits applied per file."""
    root = tmp / "protos"
    shutil.copytree(PROTOS, root)
    for rel, changes in edits.items():
        path = root / rel
        text = path.read_text()
        for old, new in changes:
            assert text.count(old) == 1, f"{rel}: edit anchor not unique: {old!r}"
            text = text.replace(old, new)
        path.write_text(text)
    return _compile(root, tmp)


_UPDATE_PARAMETER = "rpc UpdateSystemParameter(UpdateSystemParameterRequest) returns (gx.type.v1.Operation) {"
_GOVERNMENT = (
    "rpc ProposeGovernmentOrganization(ProposeGovernmentOrganizationRequest) returns (gx.type.v1.Operation) {"
)


def _access_after(anchor: str, roles: str) -> tuple[str, str]:
    """An edit that replaces the access rule of the RPC opening with `anchor`."""
    text = (PROTOS / _file_of(anchor)).read_text()
    start = text.index(anchor)
    begin = text.index("option (gx.type.v1.access) = {", start)
    end = text.index("};", begin) + 2
    return text[start:end], text[start:begin] + f"option (gx.type.v1.access) = {{roles: [{roles}]}};"


def _file_of(anchor: str) -> str:
    return next(rel for rel in gx_proto_files() if anchor in (PROTOS / rel).read_text())


def test_an_admin_allowed_to_change_a_parameter_fails_the_check(tmp_path: Path) -> None:
    # The hole the review found: the ledger submits UPDATE_SYSTEM_PARAMETER as gx_super_admin.
    model = _broken(
        tmp_path,
        {_file_of(_UPDATE_PARAMETER): [_access_after(_UPDATE_PARAMETER, "ROLE_ADMIN, ROLE_SUPER_ADMIN")]},
    )
    assert check_access_at_least_submitter(model) == [
        "gx.wallet.v1.AdminService.UpdateSystemParameter: admits ROLE_ADMIN (~gx_admin), weaker than"
        " gx_super_admin that submits .gx.ledger.v1.UpdateSystemParameterRequest"
    ]


def test_a_user_allowed_to_propose_a_government_organisation_fails_the_check(tmp_path: Path) -> None:
    model = _broken(tmp_path, {_file_of(_GOVERNMENT): [_access_after(_GOVERNMENT, "ROLE_USER, ROLE_ADMIN")]})
    assert check_access_at_least_submitter(model) == [
        "gx.wallet.v1.OrganizationService.ProposeGovernmentOrganization: admits ROLE_USER (~gx_partner_api),"
        " weaker than gx_admin that submits .gx.ledger.v1.ProposeGovernmentOrganizationRequest"
    ]


def test_a_stricter_submitter_on_the_ledger_fails_the_check(tmp_path: Path) -> None:
    # The other direction: the chain tightens a command the API still lets users record.
    old = '    function: "TransferTokens"\n    submitter_role: "gx_partner_api"'
    model = _broken(
        tmp_path,
        {"gx/ledger/v1/commands.proto": [(old, old.replace("gx_partner_api", "gx_admin"))]},
    )
    assert check_access_at_least_submitter(model) == [
        "gx.wallet.v1.WalletService.Transfer: admits ROLE_USER (~gx_partner_api), weaker than"
        " gx_admin that submits .gx.ledger.v1.TransferTokensRequest"
    ]


def test_an_operation_rpc_without_its_command_fails_the_check(tmp_path: Path) -> None:
    line = "    option (gx.type.v1.records) = COMMAND_TYPE_UPDATE_SYSTEM_PARAMETER;\n"
    model = _broken(tmp_path, {_file_of(_UPDATE_PARAMETER): [(line, "")]})
    assert check_operations_declare_records(model) == [
        "gx.wallet.v1.AdminService.UpdateSystemParameter: answers an Operation but declares no (gx.type.v1.records)"
    ]


def test_two_rpcs_recording_one_command_fail_the_check(tmp_path: Path) -> None:
    line = "option (gx.type.v1.records) = COMMAND_TYPE_PROPOSE_GOVERNMENT_ORGANIZATION;"
    model = _broken(
        tmp_path,
        {_file_of(_GOVERNMENT): [(line, line.replace("GOVERNMENT_ORGANIZATION", "ORGANIZATION"))]},
    )
    assert check_each_command_recorded_once(model) == [
        "gx.wallet.v1.OrganizationService.ProposeGovernmentOrganization: records command type 8,"
        " as gx.wallet.v1.OrganizationService.ProposeOrganization does"
    ]


def _role_checks(path: Path, root: Path = ROOT) -> set[tuple[str, str]]:
    """(file, enclosing function) of every call to certs.role_at_least / certs.require_role."""
    tree = ast.parse(path.read_text())
    return {
        (str(path.relative_to(root)), func.name)
        for func in ast.walk(tree)
        if isinstance(func, (ast.FunctionDef, ast.AsyncFunctionDef))
        for node in ast.walk(func)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in ("role_at_least", "require_role")
    }


def test_the_chaincode_declares_no_role_rule_the_protos_do_not() -> None:
    # run_command enforces the declared submitter_role; a role check anywhere else is a rule
    # the generated check above cannot see, which is how government organisations broke.
    found: set[tuple[str, str]] = set()
    for path in sorted((ROOT / "chaincode").rglob("*.py")):
        if path.name != "certs.py":
            found |= _role_checks(path)
    assert found - {("chaincode/contracts/base.py", "run_command")} == _UNDECLARED_ROLE_CHECKS


def test_the_role_scan_sees_an_undeclared_check(tmp_path: Path) -> None:
    # The shape government organisations had before they became a command of their own.
    source = tmp_path / "organization.py"
    source.write_text(
        "async def _propose(tx, request):\n"
        "    if request.type == GOVERNMENT and not certs.role_at_least(tx.role, 'gx_admin'):\n"
        "        raise PermissionDenied('no')\n"
    )
    assert _role_checks(source, tmp_path) == {("organization.py", "_propose")}
