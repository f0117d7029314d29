"""The command → chaincode function → submitter identity table, derived from the ledger protos."""

from __future__ import annotations

import functools
from dataclasses import dataclass

from google.protobuf import symbol_database
from google.protobuf.message import Message
from gx.type.v1 import command_pb2

from services.common import command_types, ordering


@dataclass(frozen=True)
class CommandSpec:
    """How one outbox command type reaches the chaincode.

    Attributes:
        command_type: the type's short name, as stored in the outbox (e.g. `TRANSFER_TOKENS`).
        request_type: the `gx.ledger.v1` request message class of its payload.
        contract: the chaincode contract (namespace).
        function: the chaincode function.
        submitter_role: the `gxc_role` of the Fabric identity that submits it.
    """

    command_type: str
    request_type: type[Message]
    contract: str
    function: str
    submitter_role: str

    @property
    def qualified_function(self) -> str:
        """`contract:function`, the name the chaincode routes without ambiguity."""
        return f"{self.contract}:{self.function}" if self.contract else self.function


def short_name(command_type: int | str) -> str:
    """`COMMAND_TYPE_TRANSFER_TOKENS`, `TRANSFER_TOKENS` or the enum number → `TRANSFER_TOKENS`.

    Raises:
        ValueError: for an unknown or unspecified type (`services.common.command_types`).
    """
    return command_types.short_name(command_type)


@functools.cache
def command_table() -> dict[str, CommandSpec]:
    """Every command type with its binding, read once from the `(gx.ledger.v1.command)` options.

    Raises:
        RuntimeError: when two messages claim the same command type, a command type of
            `gx.type.v1.CommandType` has no request message, or a request message's ordering
            keys are not declared properly (`services.common.ordering.declaration_problems`):
            a contract error that must stop the worker at start-up, not surface as one failed
            (or unordered) command later.
    """
    db = symbol_database.Default()
    table: dict[str, CommandSpec] = {}
    for found in command_types.bindings():
        name = found.command_type
        if name in table:
            raise RuntimeError(
                f"command {name} is bound twice: {table[name].request_type.DESCRIPTOR.full_name}"
                f" and {found.message.full_name}"
            )
        table[name] = CommandSpec(
            command_type=name,
            request_type=db.GetSymbol(found.message.full_name),
            contract=found.options.contract,
            function=found.options.function,
            submitter_role=found.options.submitter_role,
        )
    missing = [
        short_name(v.number)
        for v in command_pb2.CommandType.DESCRIPTOR.values
        if v.number != 0 and short_name(v.number) not in table
    ]
    if missing:
        raise RuntimeError(f"command types without a gx.ledger.v1 request message: {', '.join(missing)}")
    problems = [
        p for spec in table.values() for p in ordering.declaration_problems(spec.request_type.DESCRIPTOR)
    ]
    if problems:
        raise RuntimeError("ordering keys declared wrongly: " + "; ".join(problems))
    return table


def spec_for(command_type: str) -> CommandSpec:
    """The binding of one stored command type.

    Raises:
        KeyError: for a type no ledger message binds (recorded by a newer service version).
    """
    try:
        name = short_name(command_type)
    except ValueError:
        raise KeyError(command_type) from None
    return command_table()[name]
