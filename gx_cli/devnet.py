"""``gx devnet``: run the single-node Fabric peer and orderer (same options as ``python -m devnet``)."""

from __future__ import annotations

import argparse


def _handler(args: argparse.Namespace) -> int:
    from devnet.cli import run

    return run(args)


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add the ``devnet`` sub-command."""
    from devnet.cli import add_arguments

    parser = subparsers.add_parser("devnet", help="run the single-node Fabric devnet (peer + orderer)")
    add_arguments(parser)
    parser.set_defaults(handler=_handler)
