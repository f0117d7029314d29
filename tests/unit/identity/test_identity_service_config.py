"""Identity's client retry policy: never retry the calls whose retry would do harm."""

from __future__ import annotations

import json
from pathlib import Path

CONFIG = Path(__file__).resolve().parents[3] / "protos/gx/identity/v1/identity_grpc_service_config.json"


def test_refresh_and_login_are_never_retried_automatically() -> None:
    # A retried RefreshToken presents a spent token and is treated as theft (the session is
    # revoked); a retried Login counts as another attempt against the lockout.
    for method_config in json.loads(CONFIG.read_text())["methodConfig"]:
        names = {n["method"] for n in method_config["name"]}
        if names & {"RefreshToken", "Login"}:
            assert "retryPolicy" not in method_config


def test_calls_that_spend_a_secret_or_answer_one_are_never_retried_automatically() -> None:
    # A retried ResetPassword or ChangePassword after a lost answer meets a spent token or a
    # changed password; a retried RequestPasswordReset sends another mail.
    for method_config in json.loads(CONFIG.read_text())["methodConfig"]:
        names = {n["method"] for n in method_config["name"]}
        if names & {"RequestPasswordReset", "ResetPassword", "ChangePassword"}:
            assert "retryPolicy" not in method_config


def test_every_rpc_has_a_deadline() -> None:
    from gx.identity.v1 import identity_service_pb2

    methods = set(identity_service_pb2.DESCRIPTOR.services_by_name["IdentityService"].methods_by_name)
    configured = {
        n["method"]
        for c in json.loads(CONFIG.read_text())["methodConfig"]
        for n in c["name"]
        if "timeout" in c
    }
    assert configured == methods
