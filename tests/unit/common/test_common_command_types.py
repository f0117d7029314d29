"""Command type names and the declared `creates` option, read from the protos."""

from __future__ import annotations

import pytest
from gx.type.v1 import command_pb2

from services.common import command_types


def test_every_spelling_of_a_type_gives_its_stored_short_name() -> None:
    assert command_types.short_name(command_pb2.COMMAND_TYPE_CREATE_USER) == "CREATE_USER"
    assert command_types.short_name("COMMAND_TYPE_TRANSFER_TOKENS") == "TRANSFER_TOKENS"
    assert command_types.short_name("TRANSFER_TOKENS") == "TRANSFER_TOKENS"
    assert command_types.value("APPLY_FOR_LOAN") == command_pb2.COMMAND_TYPE_APPLY_FOR_LOAN


@pytest.mark.parametrize("bad", [0, "COMMAND_TYPE_UNSPECIFIED", "UNSPECIFIED", "NO_SUCH_COMMAND", 9999])
def test_unknown_and_unspecified_types_are_refused(bad: int | str) -> None:
    with pytest.raises(ValueError):
        command_types.short_name(bad)


def test_a_name_from_a_newer_writer_reads_as_unspecified() -> None:
    assert command_types.value_or_unspecified("FROM_THE_FUTURE") == command_pb2.COMMAND_TYPE_UNSPECIFIED
    assert command_types.value_or_unspecified("CAST_VOTE") == command_pb2.COMMAND_TYPE_CAST_VOTE


def test_every_command_type_is_bound_to_exactly_one_request_message() -> None:
    bound = [b.command_type for b in command_types.bindings()]
    assert len(bound) == len(set(bound))
    assert set(bound) == {command_types.short_name(v) for v in command_pb2.CommandType.values() if v}


def test_the_commands_that_create_a_resource_are_declared_in_the_protos() -> None:
    created = {b.command_type: command_types.creates(b.command_type) for b in command_types.bindings()}
    assert {t: k for t, k in created.items() if k} == {
        "PROPOSE_ORGANIZATION": "ORGANIZATION",
        "PROPOSE_GOVERNMENT_ORGANIZATION": "ORGANIZATION",
        "DEFINE_AUTH_RULE": "MULTISIG_TX",
        "REMOVE_AUTH_RULE": "MULTISIG_TX",
        "INITIATE_MULTISIG_TX": "MULTISIG_TX",
        "APPLY_FOR_LOAN": "LOAN",
        "SUBMIT_PROPOSAL": "PROPOSAL",
    }
    assert command_types.creating("ORGANIZATION") == (
        "PROPOSE_GOVERNMENT_ORGANIZATION",
        "PROPOSE_ORGANIZATION",
    )


def test_a_created_resource_is_named_by_its_request_id_so_every_creating_request_has_one() -> None:
    # record_command maps the operation id to the command's request id: a creating command
    # without a request_id field would have no ledger id to map.
    for binding in command_types.bindings():
        if binding.options.creates:
            assert "request_id" in binding.message.fields_by_name, binding.message.full_name
