"""Which ledger command an RPC records, read from its declared `gx.type.v1.records` option."""

from __future__ import annotations

from types import ModuleType

from gx.type.v1 import command_pb2


def declared_command(module: ModuleType, service: str, rpc: str) -> int:
    """The command type an RPC declares it records (`gx.type.v1.records`).

    Reading it from the descriptor keeps the proto the one place that ties an RPC to its
    command, which the contract tests check against the RPC's access rule and the ledger's
    submitter role; a use case that hard-coded another type would escape that check.

    Args:
        module: The generated `*_service_pb2` module of the service.
        service: The service name, e.g. `OrganizationService`.
        rpc: The method name, e.g. `ProposeOrganization`.

    Raises:
        LookupError: The RPC declares no command (a contract error the contract tests catch).
    """
    method = module.DESCRIPTOR.services_by_name[service].methods_by_name[rpc]
    options = method.GetOptions()
    if not options.HasExtension(command_pb2.records):
        raise LookupError(f"{service}.{rpc} declares no (gx.type.v1.records)")
    return int(options.Extensions[command_pb2.records])
