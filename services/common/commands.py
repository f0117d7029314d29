"""Which ledger command an RPC records, read from its declared `gx.type.v1.records` option."""

from __future__ import annotations

from types import ModuleType

from google.protobuf import descriptor_pool
from gx.type.v1 import command_pb2

from services.common.logging import method_var


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


def command_of_current_rpc() -> int | None:
    """The command type the RPC being served declares it records, or None (no RPC, or none declared)."""
    method = method_var.get()
    if not method:
        return None
    service, _, name = method.lstrip("/").rpartition("/")
    try:
        found = descriptor_pool.Default().FindMethodByName(f"{service}.{name}")
    except KeyError:
        return None
    options = found.GetOptions()
    return int(options.Extensions[command_pb2.records]) if options.HasExtension(command_pb2.records) else None


def check_declared(command_type: int) -> None:
    """Refuse to record a command other than the one the current RPC declares.

    The contract tests check each RPC's declared command against its access rule and the
    ledger's submitter role; a use case that recorded another command would slip past them, so
    this is a programming error, raised loudly (INTERNAL) rather than recorded.

    Raises:
        RuntimeError: `command_type` is not what the current RPC declares.
    """
    declared = command_of_current_rpc()
    if declared is not None and declared != command_type:
        raise RuntimeError(
            f"{method_var.get()} declares {command_pb2.CommandType.Name(declared)}"
            f" but records {command_pb2.CommandType.Name(command_type)}"
        )
