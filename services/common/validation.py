"""Request validation from descriptors: `field_behavior = REQUIRED` and the `gx.type.v1.field` rules.

Plans are compiled once per message type and cached, because this runs before every handler.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Final

from google.api import field_behavior_pb2
from google.protobuf import descriptor as _d
from google.protobuf.message import Message
from gx.type.v1 import validation_pb2

from services.common.errors import FieldViolation, InvalidArgument

_UUID: Final = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
# Deliberately loose: one @, no spaces, a dot in the domain. Deliverability is proven by
# mail, not by a regex; RFC 5321 caps the length at 254.
_EMAIL: Final = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s.]+")
_EMAIL_MAX: Final = 254
_INTS: Final = frozenset(
    {
        _d.FieldDescriptor.TYPE_INT32,
        _d.FieldDescriptor.TYPE_INT64,
        _d.FieldDescriptor.TYPE_UINT32,
        _d.FieldDescriptor.TYPE_UINT64,
        _d.FieldDescriptor.TYPE_SINT32,
        _d.FieldDescriptor.TYPE_SINT64,
        _d.FieldDescriptor.TYPE_FIXED32,
        _d.FieldDescriptor.TYPE_FIXED64,
        _d.FieldDescriptor.TYPE_SFIXED32,
        _d.FieldDescriptor.TYPE_SFIXED64,
    }
)

# A value check returns a description of what is wrong, or None.
_ValueCheck = Callable[[Any], str | None]


@dataclass
class _FieldPlan:
    name: str
    descriptor: _d.FieldDescriptor
    required: bool
    repeated: bool
    is_map: bool
    is_message: bool
    has_presence: bool
    value_checks: list[_ValueCheck] = field(default_factory=list)
    min_items: int = 0
    max_items: int = 0
    # The sub-message's plan, when it has any rules at all (resolved lazily: recursive types).
    message_type: _d.Descriptor | None = None


@dataclass
class _MessagePlan:
    fields: list[_FieldPlan]
    # False when neither this type nor anything reachable from it has a rule: skip it in O(1).
    has_rules: bool = True


_plans: dict[str, _MessagePlan] = {}


def _string_checks(rules: validation_pb2.FieldRules) -> list[_ValueCheck]:
    checks: list[_ValueCheck] = []
    if rules.uuid:
        checks.append(lambda v: None if _UUID.fullmatch(v) else "must be a UUID (8-4-4-4-12 hex digits)")
    if rules.email:
        checks.append(
            lambda v: None if len(v) <= _EMAIL_MAX and _EMAIL.fullmatch(v) else "must be an email address"
        )
    if rules.min_len:
        n = rules.min_len
        checks.append(lambda v: None if len(v) >= n else f"must be at least {n} characters")
    if rules.max_len:
        m = rules.max_len
        checks.append(lambda v: None if len(v) <= m else f"must be at most {m} characters")
    if rules.pattern:
        pattern = re.compile(rules.pattern)
        checks.append(lambda v: None if pattern.fullmatch(v) else f"must match the pattern {rules.pattern}")
    return checks


def _int_checks(rules: validation_pb2.FieldRules) -> list[_ValueCheck]:
    checks: list[_ValueCheck] = []
    if rules.HasField("gt"):
        gt = rules.gt
        checks.append(lambda v: None if v > gt else f"must be greater than {gt}")
    if rules.HasField("gte"):
        gte = rules.gte
        checks.append(lambda v: None if v >= gte else f"must be at least {gte}")
    if rules.HasField("lte"):
        lte = rules.lte
        checks.append(lambda v: None if v <= lte else f"must be at most {lte}")
    return checks


def _enum_checks(fd: _d.FieldDescriptor, rules: validation_pb2.FieldRules) -> list[_ValueCheck]:
    numbers = frozenset(fd.enum_type.values_by_number)
    # Proto3 enums are open: an unknown number parses fine, so every enum is checked.
    checks: list[_ValueCheck] = [lambda v: None if v in numbers else "must be one of the defined values"]
    if rules.enum_defined:
        checks.append(lambda v: None if v != 0 else "must not be unspecified")
    return checks


def _compile(desc: _d.Descriptor) -> _MessagePlan:
    plan = _MessagePlan(fields=[])
    # Registered before the fields are compiled, so a recursive type finds itself.
    _plans[desc.full_name] = plan
    for fd in desc.fields:
        options = fd.GetOptions()
        behaviors = list(options.Extensions[field_behavior_pb2.field_behavior])
        if field_behavior_pb2.OUTPUT_ONLY in behaviors:
            # Clients may echo output-only fields back; the server ignores them.
            continue
        rules = options.Extensions[validation_pb2.field]
        is_repeated = fd.label == _d.FieldDescriptor.LABEL_REPEATED
        is_map = is_repeated and fd.message_type is not None and fd.message_type.GetOptions().map_entry
        is_message = fd.type == _d.FieldDescriptor.TYPE_MESSAGE
        fp = _FieldPlan(
            name=fd.name,
            descriptor=fd,
            required=field_behavior_pb2.REQUIRED in behaviors,
            repeated=is_repeated,
            is_map=bool(is_map),
            is_message=is_message and not is_map,
            has_presence=fd.has_presence,
            min_items=rules.min_items,
            max_items=rules.max_items,
        )
        if fd.type == _d.FieldDescriptor.TYPE_STRING:
            fp.value_checks = _string_checks(rules)
        elif fd.type in _INTS:
            fp.value_checks = _int_checks(rules)
        elif fd.type == _d.FieldDescriptor.TYPE_ENUM:
            fp.value_checks = _enum_checks(fd, rules)
        if is_map:
            value_fd = fd.message_type.fields_by_name["value"]
            if value_fd.type == _d.FieldDescriptor.TYPE_MESSAGE:
                fp.message_type = value_fd.message_type
        elif is_message:
            fp.message_type = fd.message_type
        if fp.message_type is not None and fp.message_type.full_name not in _plans:
            _compile(fp.message_type)
        plan.fields.append(fp)
    return plan


def _finalise_rules(desc: _d.Descriptor, seen: set[str]) -> bool:
    """Whether any rule is reachable from `desc` (computed once after compiling)."""
    plan = _plans[desc.full_name]
    if desc.full_name in seen:
        return plan.has_rules
    seen.add(desc.full_name)
    own = any(
        fp.required
        or fp.value_checks
        or fp.min_items
        or fp.max_items
        or fp.descriptor.type == _d.FieldDescriptor.TYPE_ENUM
        for fp in plan.fields
    )
    nested = False
    for fp in plan.fields:
        if fp.message_type is not None and _finalise_rules(fp.message_type, seen):
            nested = True
    plan.has_rules = own or nested
    # Drop sub-message links that can never produce a violation, so the walk skips them.
    for fp in plan.fields:
        if fp.message_type is not None and not _plans[fp.message_type.full_name].has_rules:
            fp.message_type = None
    return plan.has_rules


def plan_for(desc: _d.Descriptor) -> _MessagePlan:
    """The cached validation plan of a message type."""
    plan = _plans.get(desc.full_name)
    if plan is None:
        _compile(desc)
        _finalise_rules(desc, set())
        plan = _plans[desc.full_name]
    return plan


# Requests of the infrastructure protocols a GX server also answers (Envoy's ext_authz Check and
# access-log stream, gRPC health and reflection) come from trusted infrastructure, not clients,
# and carry none of our rules: holding them to ours would only cost and could refuse. Envoy's
# CheckRequest has enums deep inside, so every partner key check walked it (about 0.06 ms of
# licensing's CPU per check, a sixth of the check), and an enum value a newer Envoy adds would
# have failed the key check closed.
_INFRASTRUCTURE_PACKAGES: Final = ("envoy.", "grpc.", "xds.", "udpa.")


def governs(desc: _d.Descriptor) -> bool:
    """Whether requests of this message type are held to the rules (not an infrastructure protocol's)."""
    return not desc.file.package.startswith(_INFRASTRUCTURE_PACKAGES)


def _is_set(message: Message, fp: _FieldPlan) -> bool:
    if fp.repeated:
        return len(getattr(message, fp.name)) > 0
    if fp.is_message or fp.has_presence:
        return bool(message.HasField(fp.name))
    value = getattr(message, fp.name)
    return bool(value)


def _violations(message: Message, prefix: str) -> Iterator[FieldViolation]:
    plan = plan_for(message.DESCRIPTOR)
    if not plan.has_rules:
        return
    for fp in plan.fields:
        path = prefix + fp.name
        if not _is_set(message, fp):
            if fp.required:
                yield FieldViolation(path, "is required")
            elif fp.min_items and fp.repeated:
                yield FieldViolation(path, f"must have at least {fp.min_items} items")
            elif fp.descriptor.type == _d.FieldDescriptor.TYPE_ENUM and not fp.repeated:
                # An unset enum is 0; only `enum_defined` objects to it.
                for check in fp.value_checks:
                    problem = check(0)
                    if problem:
                        yield FieldViolation(path, problem)
            continue
        value = getattr(message, fp.name)
        if fp.is_map:
            if fp.min_items and len(value) < fp.min_items:
                yield FieldViolation(path, f"must have at least {fp.min_items} items")
            if fp.max_items and len(value) > fp.max_items:
                yield FieldViolation(path, f"must have at most {fp.max_items} items")
            if fp.message_type is not None:
                for key, item in value.items():
                    yield from _violations(item, f"{path}[{key}].")
            continue
        if fp.repeated:
            if fp.min_items and len(value) < fp.min_items:
                yield FieldViolation(path, f"must have at least {fp.min_items} items")
            if fp.max_items and len(value) > fp.max_items:
                yield FieldViolation(path, f"must have at most {fp.max_items} items")
            for i, item in enumerate(value):
                if fp.message_type is not None:
                    yield from _violations(item, f"{path}[{i}].")
                for check in fp.value_checks:
                    problem = check(item)
                    if problem:
                        yield FieldViolation(f"{path}[{i}]", problem)
            continue
        if fp.message_type is not None:
            yield from _violations(value, path + ".")
            continue
        for check in fp.value_checks:
            problem = check(value)
            if problem:
                yield FieldViolation(path, problem)


def violations(message: Message) -> list[FieldViolation]:
    """Every violation in a message and its sub-messages, in field order."""
    return list(_violations(message, ""))


def validate(message: Message) -> None:
    """Raise `InvalidArgument` with all field violations at once, if there are any (requests of
    infrastructure protocols, which `governs` excludes, pass as they are)."""
    if not governs(message.DESCRIPTOR):
        return
    found = violations(message)
    if found:
        raise InvalidArgument("the request has invalid fields", violations=found, reason="INVALID_FIELDS")
