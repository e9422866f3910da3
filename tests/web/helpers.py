"""Shared by the web tests: load a docs_src file fresh, serve an app on a real uvicorn."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import ModuleType
from typing import Any

import uvicorn

from ravyn.events import Registry
from tests.support.samples import load_sample


def load_docs_module(relative_path: str) -> ModuleType:
    """Execute a docs_src file as a new module, its observables in a registry of its own
    (kept as ``module.docs_registry``, for an app a test builds around the module)."""
    return load_sample(relative_path.removeprefix("docs_src/"), Registry())


@contextmanager
def serve(app: Any) -> Iterator[str]:
    """Run ``app`` on uvicorn in a thread; yields ``127.0.0.1:port``.

    The socket listens before the thread starts, so a client may connect at once: its
    connection waits in the backlog until the server (after the lifespan startup) accepts.
    """
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, log_level="warning", lifespan="on", ws="websockets-sansio")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        yield f"127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=15)
        sock.close()
