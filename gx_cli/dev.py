"""`gx dev up|down|status|logs|mail`: the local mesh on pip-installed PostgreSQL, Redis and Envoy."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from devstack.config import StackConfig

_REPO_ROOT = Path(__file__).resolve().parent.parent


def _import_devstack() -> None:
    # devstack is a top-level package of the checkout; until the editable install lists it,
    # make it importable from the repository this module lives in.
    if str(_REPO_ROOT) not in sys.path:
        try:
            import devstack  # noqa: F401
        except ImportError:
            sys.path.insert(0, str(_REPO_ROOT))


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add `gx dev` and its sub-commands."""
    dev = subparsers.add_parser("dev", help="run the local mesh (PostgreSQL, Redis, services, Envoy)")
    sub = dev.add_subparsers(dest="dev_command", required=True)
    up = sub.add_parser("up", help="start what is not running, wait until healthy, print the endpoints")
    up.add_argument("parts", nargs="*", help="start only these parts (and what they need); default: all")
    up.set_defaults(handler=_up)
    sub.add_parser("down", help="stop everything `up` started (data is kept)").set_defaults(handler=_down)
    sub.add_parser("status", help="show each part: pid, address, health").set_defaults(handler=_status)
    logs = sub.add_parser("logs", help="show the log of one part, or the end of every log")
    logs.add_argument("part", nargs="?", help="part name (postgres, redis, identity, edge, ...)")
    logs.add_argument("-n", "--lines", type=int, default=40, help="lines to show (default 40)")
    logs.add_argument("-f", "--follow", action="store_true", help="keep printing new lines (Ctrl-C to stop)")
    logs.add_argument(
        "--trace",
        metavar="ID",
        help="print one request's lines from every process in time order (its trace_id or traceparent)",
    )
    logs.set_defaults(handler=_logs)
    mail = sub.add_parser(
        "mail", help="list the mail the stack's SMTP sink received (nothing leaves the machine)"
    )
    mail.add_argument(
        "--json",
        action="store_true",
        help="one JSON object per message: to, subject, text, html, links, codes",
    )
    mail.add_argument("--to", metavar="ADDRESS", help="only messages to this address")
    mail.add_argument("-n", "--last", type=int, default=0, help="only the last N messages")
    mail.add_argument(
        "--wait",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="wait up to SECONDS for a matching message (the notifier sends shortly after the event); exit 1 if none",
    )
    mail.set_defaults(handler=_mail)


def _config() -> StackConfig:
    _import_devstack()
    from devstack.config import StackConfig

    return StackConfig.from_env()


def _print(line: str) -> None:
    print(line, flush=True)


def _up(args: argparse.Namespace) -> int:
    cfg = _config()
    from devstack import stack
    from devstack.errors import StackError

    _print(f"gx dev up (state in {cfg.state_dir})")
    try:
        only = stack.with_dependencies(args.parts) if args.parts else None
        used = stack.up(cfg, progress=_print, only=only)
    except StackError as exc:
        print(f"gx dev up: {exc}", file=sys.stderr)
        return 1
    from devstack.parts import registry

    parts = registry(used, only=only)
    ends = stack.endpoints(used, parts)
    _print("")
    for label, value in _endpoint_lines(ends):
        _print(f"{label:<18} {value}")
    if any(part.name == "mail" for part in parts):
        _print(f"{'SMTP sink':<18} smtp://{used.address('mail')}   (gx dev mail --json)")
    return 0


def _endpoint_lines(ends: Any) -> list[tuple[str, str]]:
    lines = []
    if ends.rest_url:
        edge = ends.rest_url.removeprefix("http://")
        lines.append(("REST edge", f"{ends.rest_url}   (curl {ends.rest_url}/.well-known/jwks.json)"))
        lines.append(("gRPC edge", f"{edge}   (grpcurl -plaintext {edge} list)"))
        lines.append(("Envoy admin", ends.admin_url))
    lines += [(f"{name} gRPC", address) for name, address in ends.grpc.items()]
    lines += [(f"{name} metrics", f"http://{address}/metrics") for name, address in ends.metrics.items()]
    lines.append(("PostgreSQL", ends.database_url))
    lines.append(("Redis", ends.redis_url))
    return lines


def _down(args: argparse.Namespace) -> int:
    cfg = _config()
    from devstack import stack
    from devstack.errors import StackError

    try:
        stopped = stack.down(cfg, progress=_print)
    except StackError as exc:
        print(f"gx dev down: {exc}", file=sys.stderr)
        return 1
    _print(
        "nothing was running"
        if not stopped
        else f"stopped {len(stopped)} part(s); data kept in {cfg.state_dir}"
    )
    return 0


def _status(args: argparse.Namespace) -> int:
    cfg = _config()
    from devstack import stack

    rows = stack.status(cfg)
    _print(f"{'PART':<11} {'PID':>7}  {'HEALTH':<9}  ADDRESS")
    for row in rows:
        _print(f"{row.name:<11} {row.pid or '-':>7}  {row.health:<9}  {row.address}")
    # Healthy when something runs and nothing that runs is sick (a partial `up` is fine).
    running = [r for r in rows if r.pid is not None]
    return 0 if running and all(r.health == "healthy" for r in running) else 3


def _logs(args: argparse.Namespace) -> int:
    cfg = _config().with_saved()
    from devstack import processes

    logs_dir = cfg.path("logs")
    if args.part:
        paths = [cfg.log_path(args.part)]
        if not paths[0].exists():
            known = ", ".join(sorted(p.stem for p in logs_dir.glob("*.log"))) or "none yet"
            print(f"gx dev logs: no log for {args.part!r} (logs: {known})", file=sys.stderr)
            return 1
    else:
        paths = sorted(logs_dir.glob("*.log"))
    if args.trace is not None:
        return _trace(paths, args.trace)
    for path in paths:
        if len(paths) > 1:
            _print(f"==> {path.stem} <==")
        _print(processes.tail(path, args.lines))
    if args.follow and paths:
        return _follow(paths)
    return 0


def _mail(args: argparse.Namespace) -> int:
    import json
    from datetime import UTC, datetime

    from devstack.mail import read_messages
    from devstack.parts import mail_dir

    directory = mail_dir(_config().with_saved())
    deadline = time.monotonic() + max(args.wait, 0.0)
    while True:
        received = read_messages(directory)
        if args.to:
            received = [mail for mail in received if args.to.lower() in (r.lower() for r in mail.to)]
        if received or time.monotonic() >= deadline:
            break
        time.sleep(0.2)
    if args.wait > 0 and not received:
        print(f"gx dev mail: no matching mail within {args.wait:g} s", file=sys.stderr)
        return 1
    if args.last > 0:
        received = received[-args.last :]
    for mail in received:
        if args.json:
            _print(json.dumps(mail.as_json()))
            continue
        when = datetime.fromtimestamp(mail.received_at, UTC).strftime("%Y-%m-%d %H:%M:%S")
        _print(f"{when}  {', '.join(mail.to):<32} {mail.subject}")
        for item in (*mail.links, *mail.codes):
            _print(f"{'':21}{item}")
    if not received and not args.json:
        _print("no mail received")
    return 0


def _trace(paths: list[Path], given: str) -> int:
    from gx_cli.trace_logs import trace_id_of, trace_lines

    trace_id = trace_id_of(given)
    if trace_id is None:
        print(f"gx dev logs: {given!r} is not a trace id (32 hex digits) or a traceparent", file=sys.stderr)
        return 2
    found = trace_lines(paths, trace_id)
    if not found:
        print(f"gx dev logs: no line of trace {trace_id} in {len(paths)} log(s)", file=sys.stderr)
        return 1
    width = max(len(line.part) for line in found)
    for line in found:
        _print(f"{line.part:<{width}}| {line.text}")
    return 0


def _follow(paths: list[Path]) -> int:
    offsets = {p: p.stat().st_size if p.exists() else 0 for p in paths}
    try:
        while True:
            for path in paths:
                if not path.exists():
                    continue
                with open(path, "rb") as f:
                    f.seek(offsets[path])
                    chunk = f.read()
                    offsets[path] = f.tell()
                if chunk:
                    prefix = f"{path.stem}| " if len(paths) > 1 else ""
                    for line in chunk.decode("utf-8", "replace").splitlines():
                        _print(prefix + line)
            time.sleep(0.3)
    except KeyboardInterrupt:
        return 0
