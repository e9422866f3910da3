"""A listeners-only process: no HTTP, just the bus fed by a transport.

Scale the listeners apart from the web processes: `python -m ravyn.events.worker
myapp.listeners --transport redis://...` imports the modules (their `@observable(listen=...)`
functions register), starts a bus on the transport and runs until SIGTERM or SIGINT; then it
stops fetching, lets in-flight listeners finish within the grace period and leaves the rest
pending for the other consumers.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import os
import signal
import sys
from collections.abc import Sequence
from contextlib import AsyncExitStack

import structlog

from ravyn.events.bus import EventBus
from ravyn.events.registry import Registry, use_registry
from ravyn.events.transports.base import Transport, transport_from_url
from ravyn.loop_monitor import LoopStallMonitor
from ravyn.settings import RavynSettings

TRANSPORT_ENVIRONMENT_VARIABLE = "RAVYN_EVENT_TRANSPORT"

logger = structlog.get_logger("ravyn.events.worker")


def load_listeners(modules: Sequence[str]) -> Registry:
    """Import `modules` and return the registry their listeners registered into."""
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())  # `myapp.listeners` from the project directory
    with use_registry(Registry()) as registry:
        for module in modules:
            importlib.import_module(module)
    if not registry.listeners:
        raise SystemExit(
            f"no listeners in {', '.join(modules)}: decorate functions there with "
            "@observable(listen=[...]) (or check the module names)"
        )
    return registry


def resolve_transport(transport: Transport | str | None) -> Transport:
    url = transport if transport is not None else os.environ.get(TRANSPORT_ENVIRONMENT_VARIABLE)
    if url is None:
        raise SystemExit(
            f"a worker needs a transport: pass --transport redis://... or nats://..., "
            f"or set {TRANSPORT_ENVIRONMENT_VARIABLE}"
        )
    return transport_from_url(url) if isinstance(url, str) else url


async def serve_worker(
    modules: Sequence[str],
    transport: Transport | str | None = None,
    *,
    grace_period: float = 10.0,
) -> None:
    """Run the listeners of `modules` on `transport` until SIGTERM/SIGINT, then drain."""
    registry = load_listeners(modules)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    bus = EventBus(registry, transport=resolve_transport(transport), grace_period=grace_period)
    stall_threshold = RavynSettings.from_env().loop_stall_threshold
    try:
        async with bus, AsyncExitStack() as stack:
            if stall_threshold:
                await stack.enter_async_context(LoopStallMonitor(stall_threshold).watching())
            logger.info(
                "worker_ready",
                pid=os.getpid(),
                modules=list(modules),
                listeners=[listener.name for listener in registry.listeners],
            )
            await stop.wait()
            logger.info("worker_stopping", pid=os.getpid(), grace_period=grace_period)
    finally:
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(signum)
    logger.info("worker_stopped", pid=os.getpid())


def run_worker(
    modules: Sequence[str],
    transport_url: Transport | str | None = None,
    *,
    grace_period: float = 10.0,
) -> None:
    """Blocking entry point: `serve_worker` in a new event loop."""
    asyncio.run(serve_worker(modules, transport_url, grace_period=grace_period))


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m ravyn.events.worker",
        description="Run the event listeners of MODULES, fed by a transport (no HTTP).",
    )
    parser.add_argument("modules", nargs="+", help="modules to import, e.g. myapp.listeners")
    parser.add_argument(
        "--transport",
        help=f"redis://host:6379/0 or nats://host:4222 (default ${TRANSPORT_ENVIRONMENT_VARIABLE})",
    )
    parser.add_argument(
        "--grace", type=float, default=10.0, help="seconds for in-flight listeners at shutdown"
    )
    args = parser.parse_args(argv)
    run_worker(args.modules, args.transport, grace_period=args.grace)


if __name__ == "__main__":
    main()
