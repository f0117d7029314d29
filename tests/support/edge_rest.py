"""REST steps through the edge that the end-to-end suites share: a super-admin, a login, an operation followed."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from typing import Any

import httpx


def bearer(token: str) -> dict[str, str]:
    """The authorization header of an access token."""
    return {"authorization": f"Bearer {token}"}


def create_super_admin(database_url: str, password: str) -> str:
    """A super-admin made with the operator command (`gx identity create-admin`), as an operator would.

    Returns:
        The new admin's email; their password is `password`.
    """
    email = f"root-{uuid.uuid4().hex[:12]}@example.com"
    done = subprocess.run(
        [sys.executable, "-m", "gx_cli.main", "identity", "create-admin", "--email", email],
        env={**os.environ, "GX_DATABASE__URL": database_url, "GX_ADMIN_PASSWORD": password},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return email


def login(http: httpx.Client, email: str, password: str) -> str:
    """Log in through the edge; the access token."""
    response = http.post("/v1/auth:login", json={"email": email, "password": password})
    assert response.status_code == 200, response.text
    return str(response.json()["accessToken"])


def wait_operation(
    http: httpx.Client, token: str, operation: dict[str, Any], budget: float = 120
) -> dict[str, Any]:
    """Follow an operation with WaitOperation until it is done (each wait well under Envoy's route timeout)."""
    op_id = operation["name"].removeprefix("operations/")
    deadline = time.monotonic() + budget
    while True:
        got = http.post(f"/v1/operations/{op_id}:wait", json={"timeout": "5s"}, headers=bearer(token))
        assert got.status_code == 200, got.text
        body: dict[str, Any] = got.json()
        if body.get("done"):
            return body
        assert time.monotonic() < deadline, f"operation not done in {budget}s: {body}"


def committed(http: httpx.Client, token: str, response: httpx.Response) -> dict[str, Any]:
    """An accepted command (202) followed until done; it must have committed."""
    assert response.status_code == 202, response.text
    done = wait_operation(http, token, response.json())
    assert done["state"] == "OPERATION_STATE_COMMITTED", done
    return done
