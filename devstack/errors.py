"""Errors the launcher reports to a person as one line, never as a traceback."""

from __future__ import annotations


class StackError(Exception):
    """A failure of the dev stack that has a short, actionable message."""


class PortTakenError(StackError):
    """A port the stack wants is already bound by another process."""

    def __init__(self, part: str, host: str, port: int, env_var: str | None) -> None:
        hint = f"; set {env_var} to move it" if env_var else ""
        super().__init__(f"{part}: port {host}:{port} is already in use{hint}")
        self.part = part
        self.host = host
        self.port = port
        self.env_var = env_var


class HealthTimeout(StackError):
    """A part did not become healthy within its bound."""
