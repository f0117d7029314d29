"""Pure logic of the outbox: the command table from the protos, rejection reasons, failpoints."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from gx.ledger.v1 import commands_pb2
from gx.type.v1 import command_pb2

from outbox import failpoints
from outbox.commands import command_table, short_name, spec_for
from outbox.processor import rejection_reason

ROLES = {"gx_super_admin", "gx_admin", "gx_partner_api"}


def test_every_command_type_has_exactly_one_binding_with_a_known_role() -> None:
    table = command_table()
    expected = {short_name(v.number) for v in command_pb2.CommandType.DESCRIPTOR.values if v.number}
    assert set(table) == expected
    for spec in table.values():
        assert spec.submitter_role in ROLES, spec
        assert spec.function and spec.contract
        assert spec.qualified_function == f"{spec.contract}:{spec.function}"


def test_spec_lookup_accepts_short_and_prefixed_names() -> None:
    assert spec_for("TRANSFER_TOKENS").request_type is commands_pb2.TransferTokensRequest
    assert spec_for("COMMAND_TYPE_TRANSFER_TOKENS") is spec_for("TRANSFER_TOKENS")
    assert spec_for("BOOTSTRAP_SYSTEM").submitter_role == "gx_super_admin"
    with pytest.raises(KeyError):
        spec_for("NO_SUCH_COMMAND")


@pytest.mark.parametrize(
    ("message", "reason", "text"),
    [
        (
            "INSUFFICIENT_FUNDS: account a has 5 Qirat",
            "INSUFFICIENT_FUNDS",
            "INSUFFICIENT_FUNDS: account a has 5 Qirat",
        ),
        ("  SYSTEM_PAUSED - maintenance", "SYSTEM_PAUSED", "SYSTEM_PAUSED - maintenance"),
        ("something broke", "LEDGER_REJECTED", "something broke"),
        ("", "LEDGER_REJECTED", "LEDGER_REJECTED"),
        (None, "ENDORSEMENT_REFUSED", "ENDORSEMENT_REFUSED"),
    ],
)
def test_rejection_reason_takes_the_chaincode_reason_prefix(
    message: str | None, reason: str, text: str
) -> None:
    default = "ENDORSEMENT_REFUSED" if message is None else "LEDGER_REJECTED"
    assert rejection_reason(message, default) == (reason, text)


def test_failpoint_is_inert_unless_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(failpoints.ENV_VAR, raising=False)
    failpoints.hit("after_submit")  # no variable: nothing happens
    monkeypatch.setenv(failpoints.ENV_VAR, "after_endorse")
    failpoints.hit("after_submit")  # another point: nothing happens
    monkeypatch.setenv(failpoints.ENV_VAR, "after_submit:3")
    failpoints.hit("after_submit")
    failpoints.hit("after_submit")
    assert os.environ[failpoints.ENV_VAR] == "after_submit:1"  # counted down, still alive


def test_failpoint_kills_the_process_with_sigkill() -> None:
    code = "from outbox import failpoints; failpoints.hit('after_endorse'); print('survived')"
    env = {**os.environ, failpoints.ENV_VAR: "after_endorse"}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == -9
    assert "survived" not in done.stdout
