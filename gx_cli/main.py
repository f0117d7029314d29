"""`gx`: one command line for operators; each sub-command lives in its own module here."""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys

import gx_cli
from gx_cli.stack_env import fill_from_stack

# Commands that configure themselves (`gx dev` reads the state directory itself; `gx devnet` runs a peer).
_OWN_SETTINGS = frozenset({"dev", "devnet"})


def build_parser() -> argparse.ArgumentParser:
    """Collect every module in gx_cli that defines `register(subparsers)`.

    Discovery keeps sub-commands independent: adding one is adding a module, with no
    central list to edit. Modules import their heavy dependencies inside the handlers,
    so `gx --help` stays fast.
    """
    parser = argparse.ArgumentParser(prog="gx", description="GX mesh operator CLI")
    subparsers = parser.add_subparsers(dest="command", required=True)
    for info in sorted(pkgutil.iter_modules(gx_cli.__path__), key=lambda m: m.name):
        if info.name in ("main", "stack_env"):
            continue
        module = importlib.import_module(f"gx_cli.{info.name}")
        register = getattr(module, "register", None)
        if register is not None:
            register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Parse arguments and run the chosen sub-command; its return value is the exit code."""
    args = build_parser().parse_args(argv)
    if args.command not in _OWN_SETTINGS:
        # Operator commands find the stack `make up` started; the environment still wins.
        fill_from_stack()
    result = args.handler(args)
    return int(result or 0)


if __name__ == "__main__":
    sys.exit(main())
