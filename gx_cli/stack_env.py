"""Find the dev stack `make up` (`gx dev up`) left running, so operator commands need no settings.

`gx dev up` writes `stack.json` (its host and ports) into the state directory (`GX_STATE_DIR`,
default `.gx/` of this checkout). From it the CLI derives the same settings every stack process
gets (`devstack.parts.gx_env`: database, Redis, identity keys, the devnet peer and its MSP) and
uses each one only where the environment does not set it; a command's `--url` beats both.
"""

from __future__ import annotations

import os
import sys
from collections.abc import MutableMapping
from pathlib import Path

# Process-specific or cosmetic settings a CLI command must not inherit from the stack.
_NOT_SHARED = frozenset({"GX_LOG_LEVEL"})


def stack_settings(environ: MutableMapping[str, str] | None = None) -> tuple[Path, dict[str, str]] | None:
    """Return the state directory and settings of the stack `gx dev up` recorded, or None if none was.

    The state directory and ports follow `GX_STATE_DIR`/`GX_*_PORT` like `gx dev` itself, then the
    record (which holds the ports `up` really used).
    """
    env = os.environ if environ is None else environ
    _import_devstack()
    from devstack.config import StackConfig
    from devstack.parts import gx_env

    base = StackConfig.from_env(env)
    if not (base.state_dir / "stack.json").is_file():
        return None
    cfg = base.with_saved()
    return cfg.state_dir, {k: v for k, v in gx_env(cfg).items() if k not in _NOT_SHARED}


def fill_from_stack(environ: MutableMapping[str, str] | None = None) -> Path | None:
    """Set each stack setting the environment lacks; return the state directory used, or None."""
    env = os.environ if environ is None else environ
    found = stack_settings(env)
    if found is None:
        return None
    state_dir, settings = found
    for key, value in settings.items():
        env.setdefault(key, value)
    return state_dir


def missing(command: str, variable: str, flag: str = "--url") -> int:
    """Say what is missing when neither the flag, the environment nor a running stack gave a setting."""
    print(
        f"gx {command}: no stack found (run `make up`), and neither {variable} nor {flag} is set",
        file=sys.stderr,
    )
    return 2


def _import_devstack() -> None:
    # devstack is a top-level package of the checkout, importable once the venv's .pth lists the
    # checkout; from a bare interpreter, make it importable from the repository this module lives in.
    root = str(Path(__file__).resolve().parent.parent)
    try:
        import devstack  # noqa: F401
    except ImportError:
        sys.path.insert(0, root)
