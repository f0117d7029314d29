"""Ordering keys of a ledger command, derived from the `(gx.ledger.v1.ordering)` options of its request.

The outbox runs a command only once every EARLIER unfinished command that holds one of its keys
in a conflicting mode has finished (see `conflicts`). The keys are declared once, on the
`gx.ledger.v1` request fields (`protos/gx/ledger/v1/options.proto`), and read here both by
`services.common.outbox.record_command` (which stores them with the command) and by the outbox's
start-up check (`outbox.commands.command_table`), so a command type cannot be recorded without
declared keys. No domain knowledge lives here: only the options are read.
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import Iterable
from dataclasses import dataclass

from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import Message

SYSTEM_KEY = "system"
_AGGREGATE_PREFIX = "ORDERING_AGGREGATE_"


def key(aggregate: str, value: str) -> str:
    """The key of one aggregate, as `keys_of` spells it: `key("account", user_id)`, `key("country", "LK")`."""
    return f"{aggregate}:{value}"


def _options() -> object:
    return importlib.import_module("gx.ledger.v1.options_pb2")


@dataclass(frozen=True)
class OrderingKeys:
    """The keys one command holds, by mode.

    Attributes:
        exclusive: keys held EXCLUSIVE (sorted): the command waits for every earlier holder.
        shared: keys held SHARED (sorted, none of them also exclusive): the command waits only
            for earlier EXCLUSIVE holders.
    """

    exclusive: tuple[str, ...] = ()
    shared: tuple[str, ...] = ()

    @property
    def all(self) -> tuple[str, ...]:
        """Every key, whatever its mode (sorted)."""
        return tuple(sorted({*self.exclusive, *self.shared}))

    @classmethod
    def of(cls, exclusive: Iterable[str] = (), shared: Iterable[str] = ()) -> OrderingKeys:
        """Normalise: a key held both ways is held EXCLUSIVE (the stronger claim wins)."""
        ex = set(exclusive)
        return cls(tuple(sorted(ex)), tuple(sorted(set(shared) - ex)))


def conflicts(earlier: OrderingKeys, later: OrderingKeys) -> bool:
    """Whether `later` must wait for the unfinished `earlier` (a read/write lock on each key).

    EXCLUSIVE conflicts with anything on the same key; SHARED conflicts only with EXCLUSIVE.
    So credits to one account (SHARED) run side by side, while a debit of that account
    (EXCLUSIVE) waits for the credits recorded before it, and the credits recorded after it wait
    for the debit. Only EARLIER commands count, so a later SHARED flood never starves an
    EXCLUSIVE command.
    """
    return bool(set(earlier.exclusive) & set(later.all)) or bool(set(earlier.all) & set(later.exclusive))


def runnable(keys: OrderingKeys, earlier_unfinished: Iterable[OrderingKeys]) -> bool:
    """The outbox's rule: no earlier unfinished command conflicts with this one.

    `outbox.repository`'s claim query is the SQL form of this function; the integration tests
    check the two agree.
    """
    return not any(conflicts(earlier, keys) for earlier in earlier_unfinished)


@dataclass(frozen=True)
class _FieldRule:
    name: str
    repeated: bool
    holds: tuple[tuple[str, bool], ...]  # (aggregate key prefix, exclusive)


@dataclass(frozen=True)
class _Plan:
    system_exclusive: bool | None  # None: the message declares no system lock
    fields: tuple[_FieldRule, ...]
    nested: tuple[tuple[str, bool, str], ...]  # (field name, repeated, message full name)


def _prefix(aggregate: int) -> str:
    name: str = _options().OrderingAggregate.Name(aggregate)  # type: ignore[attr-defined]
    return name.removeprefix(_AGGREGATE_PREFIX).lower()


@functools.cache
def _plan(descriptor: Descriptor) -> _Plan:
    opts = _options()
    exclusive_mode = opts.LOCK_MODE_EXCLUSIVE  # type: ignore[attr-defined]
    system: bool | None = None
    message_opts = descriptor.GetOptions()
    if message_opts.HasExtension(opts.command):  # type: ignore[attr-defined]
        mode = message_opts.Extensions[opts.command].system_lock  # type: ignore[attr-defined]
        system = None if mode == 0 else mode == exclusive_mode
    fields: list[_FieldRule] = []
    nested: list[tuple[str, bool, str]] = []
    for field in descriptor.fields:
        holds = field.GetOptions().Extensions[opts.ordering]  # type: ignore[attr-defined]
        repeated = field.label == FieldDescriptor.LABEL_REPEATED
        if holds:
            fields.append(
                _FieldRule(
                    field.name,
                    repeated,
                    tuple((_prefix(h.aggregate), h.mode == exclusive_mode) for h in holds),
                )
            )
        elif field.message_type is not None and _declares_keys(field.message_type):
            nested.append((field.name, repeated, field.message_type.full_name))
    return _Plan(system, tuple(fields), tuple(nested))


def _declares_keys(descriptor: Descriptor, seen: frozenset[str] = frozenset()) -> bool:
    if descriptor.full_name in seen:
        return False
    opts = _options()
    for field in descriptor.fields:
        if field.GetOptions().Extensions[opts.ordering]:  # type: ignore[attr-defined]
            return True
        if field.message_type is not None and _declares_keys(
            field.message_type, seen | {descriptor.full_name}
        ):
            return True
    return False


def declaration_problems(descriptor: Descriptor) -> list[str]:
    """What is wrong with a command request message's ordering declarations (empty: nothing).

    Checked at the outbox's start-up for every command type: a command whose system lock is
    undeclared, or whose key sits on a field that cannot name an aggregate, must stop the
    worker rather than run unordered.
    """
    opts = _options()
    problems: list[str] = []
    if _plan(descriptor).system_exclusive is None:
        problems.append(f"{descriptor.full_name}: (gx.ledger.v1.command).system_lock is not declared")

    def walk(desc: Descriptor, seen: frozenset[str]) -> None:
        for field in desc.fields:
            for hold in field.GetOptions().Extensions[opts.ordering]:  # type: ignore[attr-defined]
                where = f"{desc.full_name}.{field.name}"
                if field.type != FieldDescriptor.TYPE_STRING:
                    problems.append(f"{where}: an ordering key must be a string field")
                if hold.aggregate == 0 or hold.mode == 0:
                    problems.append(f"{where}: ordering key without aggregate or mode")
            if field.message_type is not None and field.message_type.full_name not in seen:
                walk(field.message_type, seen | {field.message_type.full_name})

    walk(descriptor, frozenset({descriptor.full_name}))
    return problems


def keys_of(payload: Message) -> OrderingKeys:
    """The ordering keys a command with this ledger payload holds.

    Empty values (an unset optional id) hold nothing. A message that declares no system lock
    (not a command request) holds the system key SHARED, so it still waits for an earlier
    bootstrap, pause or parameter change.
    """
    exclusive: set[str] = set()
    shared: set[str] = set()
    plan = _plan(payload.DESCRIPTOR)
    (exclusive if plan.system_exclusive else shared).add(SYSTEM_KEY)
    _collect(payload, exclusive, shared)
    return OrderingKeys.of(exclusive, shared)


def _collect(message: Message, exclusive: set[str], shared: set[str]) -> None:
    plan = _plan(message.DESCRIPTOR)
    for rule in plan.fields:
        raw = getattr(message, rule.name)
        values = list(raw) if rule.repeated else [raw]
        for value in values:
            if not value:
                continue
            for prefix, is_exclusive in rule.holds:
                (exclusive if is_exclusive else shared).add(key(prefix, value))
    for name, repeated, _ in plan.nested:
        raw = getattr(message, name)
        children = list(raw) if repeated else ([raw] if message.HasField(name) else [])
        for child in children:
            _collect(child, exclusive, shared)
