"""Stack settings: defaults, environment overrides, and the record `up` leaves."""

from __future__ import annotations

from pathlib import Path

from devstack.config import PORTS, StackConfig


def test_defaults_are_the_agreed_addresses(tmp_path: Path) -> None:
    cfg = StackConfig.from_env({"GX_STATE_DIR": str(tmp_path)})
    assert cfg.state_dir == tmp_path.resolve()
    assert cfg.address("edge") == "127.0.0.1:8080"
    assert cfg.address("identity") == "127.0.0.1:50051"
    assert cfg.address("wallet") == "127.0.0.1:50052"
    assert cfg.address("licensing") == "127.0.0.1:50053"
    assert cfg.address("devnet") == "127.0.0.1:7051"
    assert cfg.port("edge_admin") == 9901


def test_every_port_moves_with_its_environment_variable(tmp_path: Path) -> None:
    env = {var: str(20000 + i) for i, (var, _) in enumerate(PORTS.values())}
    cfg = StackConfig.from_env({"GX_STATE_DIR": str(tmp_path), **env})
    for i, name in enumerate(PORTS):
        assert cfg.port(name) == 20000 + i
        assert StackConfig.env_var(name) == list(PORTS.values())[i][0]


def test_saved_record_restores_the_ports_of_the_last_up(tmp_path: Path) -> None:
    first = StackConfig.from_env({"GX_STATE_DIR": str(tmp_path), "GX_EDGE_PORT": "18080"})
    first.save()
    later = StackConfig.from_env({"GX_STATE_DIR": str(tmp_path)}).with_saved()
    assert later.port("edge") == 18080


def test_free_port_configs_are_not_durable_and_use_distinct_ports(tmp_path: Path) -> None:
    cfg = StackConfig.on_free_ports(tmp_path)
    assert not cfg.durable
    assert len(set(cfg.ports.values())) == len(PORTS)
