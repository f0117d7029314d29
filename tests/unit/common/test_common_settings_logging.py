"""Unit tests of settings from the environment and the JSON log format."""

from __future__ import annotations

import io
import json
import logging

import pytest

from services.common.logging import JsonFormatter, LogKey, configure_logging, method_var, request_id_var
from services.common.settings import ServiceSettings


class _Svc(ServiceSettings):
    service_name: str = "wallet"
    listen: str = "127.0.0.1:50052"


def test_settings_read_prefixed_nested_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GX_LISTEN", "127.0.0.1:0")
    monkeypatch.setenv("GX_DATABASE__URL", "postgresql+psycopg://gx:s3cret@127.0.0.1:5999/gx")
    monkeypatch.setenv("GX_DATABASE__POOL_SIZE", "3")
    monkeypatch.setenv("GX_REDIS__URL", "redis://127.0.0.1:6399/0")
    monkeypatch.setenv("GX_AUTH__JWKS_TARGET", "127.0.0.1:50051")
    monkeypatch.setenv("GX_LOG_LEVEL", "DEBUG")
    s = _Svc()
    assert (s.service_name, s.listen, s.log_level) == ("wallet", "127.0.0.1:0", "DEBUG")
    assert s.database.url.get_secret_value().endswith("@127.0.0.1:5999/gx")
    assert s.database.pool_size == 3
    assert s.redis.url.get_secret_value() == "redis://127.0.0.1:6399/0"
    assert (s.auth.jwks_target, s.auth.issuer, s.auth.audience) == (
        "127.0.0.1:50051",
        "gx-identity",
        "gx-api",
    )
    assert s.error_domain == "wallet.gx"


def test_secrets_never_appear_when_settings_are_printed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GX_DATABASE__URL", "postgresql+psycopg://gx:s3cret@h/gx")
    monkeypatch.setenv("GX_REDIS__URL", "redis://:r3dispw@h:1/0")
    s = _Svc()
    dumped = f"{s} {s!r} {s.model_dump()} {s.model_dump_json()}"
    assert "s3cret" not in dumped and "r3dispw" not in dumped


def test_log_lines_are_json_with_context_and_registered_extras() -> None:
    stream = io.StringIO()
    formatter = JsonFormatter("identity")
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter)
    log = logging.getLogger("gx.test.json")
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    log.propagate = False
    rid, method = request_id_var.set("rid-1"), method_var.set("/a.B/C")
    try:
        log.info("hello %s", "world", extra={LogKey.CODE: "OK", LogKey.DURATION_MS: 1.5})
        try:
            raise ValueError("bad")
        except ValueError:
            log.exception("failed")
    finally:
        request_id_var.reset(rid)
        method_var.reset(method)
        log.removeHandler(handler)
    first, second = (json.loads(line) for line in stream.getvalue().splitlines())
    assert (
        first["message"] == "hello world" and first["level"] == "INFO" and first["logger"] == "gx.test.json"
    )
    assert (first["service"], first["request_id"], first["grpc.method"], first["grpc.code"]) == (
        "identity",
        "rid-1",
        "/a.B/C",
        "OK",
    )
    assert first["duration_ms"] == 1.5 and first["time"].endswith("+00:00")
    assert second["level"] == "ERROR" and "ValueError: bad" in second["exception"]


def test_configure_logging_installs_one_json_handler() -> None:
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    try:
        stream = io.StringIO()
        configure_logging("warning", "svc", stream)
        configure_logging("warning", "svc", stream)
        assert len(root.handlers) == 1
        logging.getLogger("gx.x").warning("w")
        logging.getLogger("gx.x").info("dropped")
        lines = stream.getvalue().splitlines()
        assert len(lines) == 1 and json.loads(lines[0])["service"] == "svc"
    finally:
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])
