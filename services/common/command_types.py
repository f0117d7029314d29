"""Ledger command types: their stored names and what their `(gx.ledger.v1.command)` options declare.

The outbox stores a command type by its short name (`TRANSFER_TOKENS` for
`COMMAND_TYPE_TRANSFER_TOKENS`); this module is the one place that spells that conversion, and the
one place that reads the command options every ledger request message carries (which message binds
which type, and which kind of resource a command creates). No domain knowledge lives here: the
protos say it all.
"""

from __future__ import annotations

import functools
import importlib
import pkgutil
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from google.protobuf import descriptor_pool
from google.protobuf.descriptor import Descriptor
from gx.type.v1 import command_pb2

from services.common.enums import by_short_name

_LEDGER_PACKAGE: Final = "gx.ledger.v1"
_AGGREGATE_PREFIX: Final = "ORDERING_AGGREGATE_"


@functools.cache
def _values() -> Mapping[str, command_pb2.CommandType]:
    return by_short_name(command_pb2.CommandType)


@functools.cache
def _prefix() -> str:
    zero = str(command_pb2.CommandType.Name(0))
    return zero.removesuffix("UNSPECIFIED")


def short_name(command_type: int | str) -> str:
    """The stored spelling of a command type: `CREATE_USER` for the enum value, its full name or itself.

    Raises:
        ValueError: for an unknown or unspecified type.
    """
    if isinstance(command_type, int):
        name = str(command_pb2.CommandType.Name(command_type)).removeprefix(_prefix())
    else:
        name = command_type.removeprefix(_prefix())
    if name not in _values():
        raise ValueError(f"unknown or unspecified command type {command_type!r}")
    return name


def value(command_type: int | str) -> command_pb2.CommandType:
    """The `gx.type.v1.CommandType` number of a short or full name (or of a number).

    Raises:
        ValueError: for an unknown or unspecified type.
    """
    return _values()[short_name(command_type)]


def value_or_unspecified(command_type: str) -> command_pb2.CommandType:
    """Like `value`, but 0 (UNSPECIFIED) for a name this release does not know (a newer writer's)."""
    try:
        return value(command_type)
    except ValueError:
        return command_pb2.COMMAND_TYPE_UNSPECIFIED


@dataclass(frozen=True)
class Binding:
    """What one ledger request message's `(gx.ledger.v1.command)` option declares.

    Attributes:
        command_type: the type's short name.
        message: the request message's descriptor.
        options: the option itself (`gx.ledger.v1.CommandOptions`).
    """

    command_type: str
    message: Descriptor
    options: Any


def _options_module() -> Any:
    return importlib.import_module(f"{_LEDGER_PACKAGE}.options_pb2")


@functools.cache
def bindings() -> tuple[Binding, ...]:
    """Every `gx.ledger.v1` message that binds a command type, in file and declaration order.

    Every generated module of the package is imported, so a command added in a new .proto file is
    found without a list here. Callers check the table (duplicates, missing types): the outbox
    refuses to start on a contract error.
    """
    options = _options_module()
    package = importlib.import_module(_LEDGER_PACKAGE)
    pool = descriptor_pool.Default()
    found: list[Binding] = []
    for info in pkgutil.iter_modules(package.__path__):
        if not info.name.endswith("_pb2"):
            continue
        module = importlib.import_module(f"{_LEDGER_PACKAGE}.{info.name}")
        for message in pool.FindFileByName(module.DESCRIPTOR.name).message_types_by_name.values():
            message_options = message.GetOptions()
            if message_options.HasExtension(options.command):
                binding = message_options.Extensions[options.command]
                found.append(Binding(short_name(binding.type), message, binding))
    return tuple(found)


@functools.cache
def _created_kinds() -> Mapping[str, str]:
    aggregate = _options_module().OrderingAggregate
    return {
        b.command_type: str(aggregate.Name(b.options.creates)).removeprefix(_AGGREGATE_PREFIX)
        for b in bindings()
        if b.options.creates
    }


def creates(command_type: int | str) -> str | None:
    """The kind of resource a command creates (`LOAN`), from its declared `creates`; None if none.

    Such a resource is named on the ledger by the command's request id and in the API by the id of
    the operation that created it; `services.common.outbox.record_command` maps the two.
    """
    return _created_kinds().get(short_name(command_type))


def creating(kind: str) -> tuple[str, ...]:
    """Every command type that creates resources of `kind` (`ORGANIZATION`), sorted."""
    return tuple(sorted(t for t, k in _created_kinds().items() if k == kind))
