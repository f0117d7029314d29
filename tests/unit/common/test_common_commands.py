"""declared_command reads the command an RPC records from its proto option, the one place it is declared."""

from __future__ import annotations

import pytest
from gx.type.v1 import command_pb2
from gx.wallet.v1 import admin_service_pb2, organization_service_pb2, wallet_service_pb2

from outbox.commands import spec_for
from services.common.commands import check_declared, declared_command
from services.common.logging import method_var


def test_an_rpc_answers_the_command_its_proto_declares() -> None:
    assert (
        declared_command(wallet_service_pb2, "WalletService", "Transfer")
        == command_pb2.COMMAND_TYPE_TRANSFER_TOKENS
    )
    government = declared_command(
        organization_service_pb2, "OrganizationService", "ProposeGovernmentOrganization"
    )
    assert government == command_pb2.COMMAND_TYPE_PROPOSE_GOVERNMENT_ORGANIZATION
    # The outbox submits that command under the identity its ledger request message declares.
    assert spec_for(command_pb2.CommandType.Name(government)).submitter_role == "gx_admin"


def test_a_read_rpc_declares_no_command() -> None:
    with pytest.raises(LookupError, match="GetOperation"):
        declared_command(wallet_service_pb2, "WalletService", "GetOperation")


def test_recording_another_command_than_the_rpc_declares_is_refused() -> None:
    # The served RPC's descriptor is in the pool because its server imported its module; here
    # the test imports it (and says what it declares), so the test holds when run alone.
    declared = declared_command(admin_service_pb2, "AdminService", "UpdateSystemParameter")
    assert declared == command_pb2.COMMAND_TYPE_UPDATE_SYSTEM_PARAMETER
    token = method_var.set("/gx.wallet.v1.AdminService/UpdateSystemParameter")
    try:
        check_declared(command_pb2.COMMAND_TYPE_UPDATE_SYSTEM_PARAMETER)
        with pytest.raises(RuntimeError, match="declares COMMAND_TYPE_UPDATE_SYSTEM_PARAMETER"):
            check_declared(command_pb2.COMMAND_TYPE_PAUSE_SYSTEM)
    finally:
        method_var.reset(token)
    # Outside an RPC (a use case called directly) there is nothing to compare with.
    check_declared(command_pb2.COMMAND_TYPE_PAUSE_SYSTEM)
