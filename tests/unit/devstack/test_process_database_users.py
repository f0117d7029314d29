"""`gx dev up` hands each GX process the database URL of its own least-privilege user."""

from __future__ import annotations

from pathlib import Path

from devstack.config import StackConfig
from devstack.parts import ServicePart, WorkerPart, database_url, registry
from devstack.postgres import PROCESS_GROUP_ROLES


def test_each_process_connects_as_its_own_user(tmp_path: Path) -> None:
    cfg = StackConfig.on_free_ports(tmp_path)
    urls = {}
    for part in registry(cfg):
        if isinstance(part, ServicePart | WorkerPart):
            _argv, env = part.command(cfg, None)  # type: ignore[arg-type]  # neither reads the stack view
            urls[part.name] = env["GX_DATABASE__URL"]
    assert set(urls) == set(PROCESS_GROUP_ROLES)
    owner = database_url(cfg)
    for name, url in urls.items():
        assert url == owner.replace("://postgres@", f"://gx_{name}_app@")
