"""A listeners-only process: no HTTP, just the bus fed by a transport.

Scale the listeners apart from the web processes: `ravyn worker myapp.listeners
--transport redis://...` (or `run_worker` from Python) imports the modules (their
`@observable(listen=...)` functions register), starts a bus on the transport and runs until
SIGTERM or SIGINT; then it stops fetching, lets in-flight listeners finish within the grace
period and leaves the rest pending for the other consumers.
"""

from __future__ import annotations

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
from ravyn.events.transports import Transport, transport_from_url
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
        raise ValueError(
            f"no listeners in {', '.join(modules)}: decorate functions there with "
            "@observable(listen=[...]) (or check the module names)"
        )
    return registry


def resolve_transport(transport: Transport | str | None) -> Transport:
    url = transport if transport is not None else os.environ.get(TRANSPORT_ENVIRONMENT_VARIABLE)
    if url is None:
        raise ValueError(
            f"a worker needs a transport: pass --transport redis://... or nats://..., "
            f"or set {TRANSPORT_ENVIRONMENT_VARIABLE}"
        )
    return transport_from_url(url) if isinstance(url, str) else url


async def serve_worker(
    modules: Sequence[str],
    transport: Transport | str | None = None,
    *,
    grace_period: float = 10.0,
    max_in_flight: int = 10_000,
) -> None:
    """Run the listeners of `modules` on `transport` until SIGTERM/SIGINT, then drain."""
    registry = load_listeners(modules)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    bus = EventBus(
        registry,
        transport=resolve_transport(transport),
        grace_period=grace_period,
        max_in_flight=max_in_flight,
    )
    stall_threshold = RavynSettings.from_env().loop_stall_threshold
    try:
        async with bus, AsyncExitStack() as stack:
            if stall_threshold:
                await stack.enter_async_context(LoopStallMonitor(stall_threshold).watching())
            logger.info(
                "worker_ready",
                pid=os.getpid(),
                modules=list(modules),
                max_in_flight=max_in_flight,
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
    max_in_flight: int = 10_000,
) -> None:
    """Blocking entry point: `serve_worker` in a new event loop."""
    asyncio.run(
        serve_worker(modules, transport_url, grace_period=grace_period, max_in_flight=max_in_flight)
    )
