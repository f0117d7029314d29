"""Role checks and the command table: every privileged function refuses a lesser role."""

from __future__ import annotations

import pytest
from gx.ledger.v1 import commands_pb2, queries_pb2
from gx.type.v1 import command_pb2

from chaincode import certs
from chaincode.app import build_chaincode
from chaincode.contracts.base import command_options, query_options
from tests.chaincode.conftest import rid
from tests.chaincode.fake_ledger import FakeLedger, role_cert

COMMANDS = [
    cls
    for name, cls in vars(commands_pb2).items()
    if name.endswith("Request") and command_options(cls).function
]
QUERIES = [cls for name, cls in vars(queries_pb2).items() if name.endswith("Request")]
_LOWER = {
    "gx_super_admin": ["gx_admin", "gx_partner_api", ""],
    "gx_admin": ["gx_partner_api", ""],
    "gx_partner_api": [""],
}


def test_every_command_type_has_exactly_one_request_message() -> None:
    types = [command_options(cls).type for cls in COMMANDS]
    expected = [v for v in command_pb2.CommandType.values() if v != command_pb2.COMMAND_TYPE_UNSPECIFIED]
    assert sorted(types) == sorted(expected)
    assert len(COMMANDS) == len(expected) > 0


def test_options_name_real_chaincode_functions() -> None:
    chaincode = build_chaincode()
    for cls in COMMANDS:
        opts = command_options(cls)
        assert chaincode.routes[opts.function] == opts.contract, cls.__name__
        assert opts.submitter_role in _LOWER, cls.__name__
        assert "request_id" in cls.DESCRIPTOR.fields_by_name, cls.__name__
    for cls in QUERIES:
        opts = query_options(cls)
        assert chaincode.routes[opts.function] == opts.contract, cls.__name__


@pytest.mark.parametrize(
    ("cls", "role"),
    [(cls, role) for cls in COMMANDS for role in _LOWER[command_options(cls).submitter_role]],
    ids=lambda v: v.__name__ if isinstance(v, type) else (v or "no-role"),
)
async def test_a_lesser_role_is_refused_before_anything_happens(
    ledger: FakeLedger, cls: type, role: str
) -> None:
    out = await ledger.invoke(command_options(cls).function, cls(request_id=rid()), role=role)
    assert out.status == 403, out.message
    assert out.message.startswith("PERMISSION_DENIED")
    assert ledger.world == {} and out.events == []


def test_role_attribute_is_read_from_a_fabric_ca_style_certificate() -> None:
    assert certs.certificate_attributes(role_cert("gx_admin"))["gxc_role"] == "gx_admin"
    assert (
        certs.submitter_role({"mspid": "Org1MSP", "idBytes": role_cert("gx_partner_api")}) == "gx_partner_api"
    )
    assert certs.certificate_attributes(role_cert("")) == {}
    assert certs.submitter_role({}) == ""
    assert certs.submitter_role({"idBytes": b"garbage"}) == ""


def test_role_ranks() -> None:
    assert certs.role_at_least("gx_super_admin", "gx_admin")
    assert certs.role_at_least("gx_admin", "gx_admin")
    assert not certs.role_at_least("gx_partner_api", "gx_admin")
    assert not certs.role_at_least("gxc_role_forged", "gx_partner_api")


async def test_roles_from_msps_outside_the_allow_list_are_ignored(ledger: FakeLedger) -> None:
    # A second organisation's CA could issue itself gx_super_admin; with an allow-list its
    # certificates carry no role at all.
    ledger.chaincode.role_msps = frozenset({"Org2MSP"})
    out = await ledger.invoke("BootstrapSystem", commands_pb2.BootstrapSystemRequest(request_id=rid()))
    assert out.status == 403
    ledger.chaincode.role_msps = frozenset({"Org1MSP", "Org2MSP"})
    assert (await ledger.invoke("BootstrapSystem", commands_pb2.BootstrapSystemRequest(request_id=rid()))).ok
