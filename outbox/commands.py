"""The command → chaincode function → submitter identity table, derived from the ledger protos."""

from __future__ import annotations

import functools
import importlib
import pkgutil
from dataclasses import dataclass

from google.protobuf import descriptor_pool, symbol_database
from google.protobuf.message import Message
from gx.type.v1 import command_pb2

from services.common import ordering

_LEDGER_PACKAGE = "gx.ledger.v1"
_COMMAND_PREFIX = "COMMAND_TYPE_"


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
    """`COMMAND_TYPE_TRANSFER_TOKENS`, `TRANSFER_TOKENS` or the enum number → `TRANSFER_TOKENS`."""
    name = command_pb2.CommandType.Name(command_type) if isinstance(command_type, int) else command_type
    return name.removeprefix(_COMMAND_PREFIX)


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
    options_pb2 = importlib.import_module(f"{_LEDGER_PACKAGE}.options_pb2")
    pool = descriptor_pool.Default()
    db = symbol_database.Default()
    table: dict[str, CommandSpec] = {}
    for file_name in _ledger_files():
        file_desc = pool.FindFileByName(file_name)
        for message in file_desc.message_types_by_name.values():
            opts = message.GetOptions()
            if not opts.HasExtension(options_pb2.command):
                continue
            binding = opts.Extensions[options_pb2.command]
            name = short_name(binding.type)
            if name in table:
                raise RuntimeError(
                    f"command {name} is bound twice: {table[name].request_type.DESCRIPTOR.full_name}"
                    f" and {message.full_name}"
                )
            table[name] = CommandSpec(
                command_type=name,
                request_type=db.GetSymbol(message.full_name),
                contract=binding.contract,
                function=binding.function,
                submitter_role=binding.submitter_role,
            )
    missing = [
        short_name(v.number)
        for v in command_pb2.CommandType.DESCRIPTOR.values
        if v.number != 0 and short_name(v.number) not in table
    ]
    if missing:
        raise RuntimeError(f"command types without a gx.ledger.v1 request message: {', '.join(missing)}")
    problems = [p for spec in table.values() for p in ordering.declaration_problems(spec.request_type.DESCRIPTOR)]
    if problems:
        raise RuntimeError("ordering keys declared wrongly: " + "; ".join(problems))
    return table


def _ledger_files() -> list[str]:
    # Importing a generated module registers its messages in the default pool; importing
    # every one means a command added in a new .proto file is found without a list here.
    package = importlib.import_module(_LEDGER_PACKAGE)
    names = []
    for info in pkgutil.iter_modules(package.__path__):
        if info.name.endswith("_pb2"):
            module = importlib.import_module(f"{_LEDGER_PACKAGE}.{info.name}")
            names.append(module.DESCRIPTOR.name)
    return names


def spec_for(command_type: str) -> CommandSpec:
    """The binding of one stored command type.

    Raises:
        KeyError: for a type no ledger message binds (recorded by a newer service version).
    """
    return command_table()[short_name(command_type)]
