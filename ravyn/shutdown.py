"""Knowing that the server started to shut down, so that long-lived responses end promptly.

On SIGTERM or Ctrl+C (SIGINT), and when ``--reload`` restarts the worker, uvicorn stops
accepting connections and waits for the open ones to close before it runs the lifespan
shutdown. An event stream (SSE) never closes by itself: the server would wait for its
clients forever. WebSockets are closed by the server (1012); a streaming response is not.

So while an app runs, ravyn puts its own handler in front of the server's for SIGINT and
SIGTERM: it sets ``app.shutdown`` and hands the signal on, unchanged. Streams that watch
``app.shutdown`` (the event bridge's) end, and the server's wait ends with them.
"""

from __future__ import annotations

import asyncio
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class Shutdown:
    """``await app.shutdown.wait()`` returns once the server is shutting down (a stop
    signal, or the lifespan shutdown); ``app.shutdown.is_set()`` says whether it is."""

    def __init__(self) -> None:
        self._event: asyncio.Event | None = None

    def is_set(self) -> bool:
        return self._event is not None and self._event.is_set()

    async def wait(self) -> None:
        """Wait for the shutdown; forever when the app is not running (nothing to stop)."""
        if self._event is None:
            await asyncio.Event().wait()
        await self._event.wait()  # type: ignore[union-attr]

    @contextmanager
    def watching(self) -> Iterator[Shutdown]:
        """While the app runs: set on a stop signal (from the main thread only: signals
        are delivered there), and set when the block ends (the lifespan shutdown)."""
        loop = asyncio.get_running_loop()
        event = self._event = asyncio.Event()
        previous: dict[int, Any] = {}

        def on_stop_signal(signum: int, frame: FrameType | None) -> None:
            loop.call_soon_threadsafe(event.set)
            _hand_on(previous[signum], signum, frame)

        if threading.current_thread() is threading.main_thread():
            for signum in STOP_SIGNALS:
                previous[signum] = signal.signal(signum, on_stop_signal)
        try:
            yield self
        finally:
            event.set()
            for signum, handler in previous.items():
                if signal.getsignal(signum) is on_stop_signal:
                    signal.signal(signum, handler)


def _hand_on(handler: Any, signum: int, frame: FrameType | None) -> None:
    """Do what would have happened without ravyn's handler."""
    if callable(handler):
        handler(signum, frame)  # the server's (or Python's KeyboardInterrupt for Ctrl+C)
    elif handler == signal.SIG_DFL:
        signal.signal(signum, signal.SIG_DFL)
        signal.raise_signal(signum)
