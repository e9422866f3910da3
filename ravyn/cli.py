"""The ``ravyn`` command: ``run`` an app, list its ``events``, run a listener ``worker``."""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence
from typing import Any

import msgspec


def load_app(target: str) -> Any:
    """``package.module:attribute`` -> the object (the current directory is importable)."""
    module_name, _, attribute = target.partition(":")
    if not module_name or not attribute:
        raise SystemExit(f"ravyn: expected module:app (e.g. myproject.main:app), got {target!r}.")
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    module = importlib.import_module(module_name)
    try:
        return getattr(module, attribute)
    except AttributeError:
        raise SystemExit(f"ravyn: module {module_name!r} has no attribute {attribute!r}.") from None


def run(args: argparse.Namespace) -> None:
    try:
        import uvicorn
    except ImportError:
        raise SystemExit("ravyn run needs an ASGI server: pip install 'ravyn[standard]'.") from None
    load_app(args.app)  # fail here, with a clear message, rather than inside the server
    uvicorn.run(
        args.app,
        host=args.host,
        port=args.port,
        reload=args.reload,
        log_level=args.log_level,
        access_log=False,  # ravyn logs one access line per request, with its request id
    )


def events(args: argparse.Namespace) -> None:
    catalogue = load_app(args.app).events.catalogue()
    if args.json:
        print(msgspec.json.format(msgspec.json.encode(catalogue).decode()))
        return
    print(format_catalogue(catalogue))


def format_catalogue(catalogue: dict[str, Any]) -> str:
    """The catalogue as a text table: event, senders, listeners; then the warnings."""
    rows = [("EVENT", "SENDERS", "LISTENERS")]
    rows += [
        (entry["name"], ", ".join(entry["senders"]) or "-", ", ".join(entry["listeners"]) or "-")
        for entry in catalogue["events"]
    ]
    widths = [max(len(row[column]) for row in rows) for column in range(2)]
    lines = [f"{row[0]:<{widths[0]}}  {row[1]:<{widths[1]}}  {row[2]}".rstrip() for row in rows]
    lines += [f"warning: {warning['message']}" for warning in catalogue["warnings"]]
    return "\n".join(lines)


def worker(args: argparse.Namespace) -> None:
    from ravyn.events.worker import run_worker

    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    run_worker(args.modules, args.transport, grace_period=args.grace)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ravyn", description="ravyn command line.")
    commands = parser.add_subparsers(dest="command", required=True)

    run_parser = commands.add_parser("run", help="serve an app with uvicorn")
    run_parser.add_argument("app", help="module:app, e.g. docs_src.first_app:app")
    run_parser.add_argument("--host", default="127.0.0.1")
    run_parser.add_argument("--port", type=int, default=8000)
    run_parser.add_argument("--reload", action="store_true", help="restart on code changes")
    run_parser.add_argument("--log-level", default="info")
    run_parser.set_defaults(func=run)

    events_parser = commands.add_parser("events", help="print the app's event catalogue")
    events_parser.add_argument("app", help="module:app")
    events_parser.add_argument("--json", action="store_true", help="machine-readable output")
    events_parser.set_defaults(func=events)

    worker_parser = commands.add_parser("worker", help="run listeners fed by a transport")
    worker_parser.add_argument("modules", nargs="+", help="modules declaring listeners")
    worker_parser.add_argument("--transport", help="redis://... or nats://... URL")
    worker_parser.add_argument("--grace", type=float, default=10.0, help="drain seconds")
    worker_parser.set_defaults(func=worker)
    return parser


def main(argv: Sequence[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    args.func(args)


if __name__ == "__main__":
    main()
