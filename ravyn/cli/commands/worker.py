"""``ravyn worker``: run the listeners of some modules, fed by Redis or NATS, without HTTP."""

from __future__ import annotations

import argparse
import contextlib
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from ravyn.cli.command import UNREACHABLE, CommandError, add_command
from ravyn.cli.logs import add_log_level, apply_log_options, read_settings
from ravyn.cli.targets import import_error, make_importable


def register(commands: Any) -> None:
    parser = add_command(
        commands, "worker", handler=worker, help="run listeners fed by a transport (no HTTP)"
    )
    parser.add_argument("modules", nargs="+", help="modules declaring listeners")
    parser.add_argument(
        "--transport",
        help="redis://host:6379/0 or nats://host:4222 (default: $RAVYN_EVENT_TRANSPORT)",
    )
    parser.add_argument(
        "--prefix",
        help="key/subject prefix the app publishes under, as ?prefix= in the URL "
        "(default: the URL's, else ravyn)",
    )
    parser.add_argument(
        "--concurrency",
        type=int,
        help="listener runs at once in this process (default: $RAVYN_MAX_IN_FLIGHT, else 10000)",
    )
    parser.add_argument(
        "--grace", type=float, default=10.0, help="seconds for running listeners at shutdown"
    )
    parser.add_argument("--reload", action="store_true", help="restart on code changes")
    parser.add_argument("--app-dir", default=".", help="directory the modules are imported from")
    add_log_level(parser)


def worker(args: argparse.Namespace) -> None:
    settings = read_settings()
    transport = args.transport or settings.event_transport
    if transport is None:
        raise CommandError(
            "a worker needs a transport: pass --transport redis://... or nats://..., "
            "or set RAVYN_EVENT_TRANSPORT"
        )
    if args.prefix:
        transport = with_prefix(transport, args.prefix)
    if args.concurrency is not None and args.concurrency < 1:
        raise CommandError("--concurrency must be 1 or more")
    options = {
        "modules": args.modules,
        "transport": transport,
        "grace_period": args.grace,
        "max_in_flight": args.concurrency or settings.max_in_flight,
        "log_level": args.log_level,
        "app_dir": args.app_dir,
        "debug": args.debug,
    }
    if not args.reload:
        run(**options)
        return
    import watchfiles

    # watchfiles turns SIGTERM into KeyboardInterrupt: the worker stopped, as asked.
    with contextlib.suppress(KeyboardInterrupt):
        watchfiles.run_process(
            args.app_dir,
            target=run_reloaded,
            kwargs=options,
            watch_filter=watchfiles.PythonFilter(),  # code changes, not logs or data
        )


def run(
    *,
    modules: list[str],
    transport: str,
    grace_period: float,
    max_in_flight: int,
    log_level: str | None,
    app_dir: str,
    debug: bool,
) -> None:
    """One worker process: import the modules, consume until SIGTERM/SIGINT, drain."""
    from ravyn.events.transports.contract import TransportUnavailable
    from ravyn.events.worker import run_worker

    apply_log_options(argparse.Namespace(log_level=log_level))
    make_importable(app_dir)
    try:
        run_worker(modules, transport, grace_period=grace_period, max_in_flight=max_in_flight)
    except TransportUnavailable as exc:
        raise CommandError(str(exc) or type(exc).__name__, UNREACHABLE) from exc
    except (ImportError, SyntaxError) as exc:
        raise import_error(modules, exc) from exc
    except ValueError as exc:  # a transport URL or a module without listeners
        raise CommandError(str(exc)) from exc


def run_reloaded(**options: Any) -> None:
    """``run`` in the process ``--reload`` restarts: an error is its line, then it waits for
    the next change."""
    import sys

    try:
        run(**options)
    except CommandError as exc:
        print(f"ravyn worker: {exc}", file=sys.stderr)


def with_prefix(url: str, prefix: str) -> str:
    """``redis://h/0`` + ``myapp`` -> ``redis://h/0?prefix=myapp`` (replacing one there)."""
    parts = urlsplit(url)
    query = [(key, value) for key, value in parse_qsl(parts.query) if key != "prefix"]
    return urlunsplit(parts._replace(query=urlencode([*query, ("prefix", prefix)])))
