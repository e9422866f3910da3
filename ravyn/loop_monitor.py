"""Loop-stall detection: say when something blocks the event loop, and what it was.

An ``async def`` listener or route that calls ``time.sleep`` (or a blocking client) stops every
request and every listener of the process, and nothing else would say so. A watchdog thread
checks a heartbeat that the loop updates; when the heartbeat is older than the threshold, the
thread reads the loop thread's current Python stack (``sys._current_frames``) and logs the
innermost frames outside the standard library and ravyn: the listener or route that blocks.
Only function names, files and line numbers are logged, never local variables.

The heartbeat costs one ``call_later`` per interval (a quarter of the threshold, at least
10 ms); the thread sleeps in between.
"""

from __future__ import annotations

import asyncio
import os
import sys
import sysconfig
import threading
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from types import FrameType

from ravyn.logging import get_logger

logger = get_logger("ravyn.loop")

_RAVYN_DIR = os.path.dirname(os.path.abspath(__file__))
_STDLIB_DIRS = tuple(
    {os.path.abspath(sysconfig.get_paths()[key]) for key in ("stdlib", "platstdlib")}
)
MAX_FRAMES = 4


class LoopStallMonitor:
    """Logs ``event_loop_stalled`` (warning) once per stall longer than ``threshold`` seconds."""

    def __init__(self, threshold: float) -> None:
        if threshold <= 0:
            raise ValueError(
                f"loop_stall_threshold must be a positive number of seconds, got {threshold}"
            )
        self.threshold = threshold
        self.interval = max(threshold / 4, 0.01)
        self.stalls = 0
        self._beat = time.monotonic()
        self._stopped = threading.Event()

    @asynccontextmanager
    async def watching(self) -> AsyncIterator[LoopStallMonitor]:
        """Watch the running loop for the duration of the block."""
        loop = asyncio.get_running_loop()
        loop_thread = threading.get_ident()
        self._stopped.clear()
        self._beat = time.monotonic()
        self._next_beat = loop.call_later(self.interval, self._heartbeat, loop)
        watchdog = threading.Thread(
            target=self._watch, args=(loop_thread,), name="ravyn-loop-monitor", daemon=True
        )
        watchdog.start()
        try:
            yield self
        finally:
            self._stopped.set()
            self._next_beat.cancel()  # the pending one: the chain ends with it

    def _heartbeat(self, loop: asyncio.AbstractEventLoop) -> None:
        self._beat = time.monotonic()
        self._next_beat = loop.call_later(self.interval, self._heartbeat, loop)

    def _watch(self, loop_thread: int) -> None:
        reported_beat = None
        while not self._stopped.wait(self.interval):
            beat = self._beat
            lag = time.monotonic() - beat - self.interval
            if lag < self.threshold or beat == reported_beat:
                continue
            reported_beat = beat  # one line per stall, however long it lasts
            self.stalls += 1
            frame = sys._current_frames().get(loop_thread)
            logger.warning(
                "event_loop_stalled",
                stalled_at_least_ms=round(lag * 1000),
                running=describe_stack(frame),
                hint="a blocking call in async code: await an async client, or make the "
                "function a plain def (it then runs in a thread)",
            )


def describe_stack(frame: FrameType | None) -> list[str]:
    """The innermost frames of application code as ``module.function (file:line)``; the
    innermost frames of any code when no application frame is on the stack."""
    frames: list[FrameType] = []
    while frame is not None:
        frames.append(frame)
        frame = frame.f_back
    ours = [
        f
        for f in frames
        if not f.f_code.co_filename.startswith("<")  # frozen stdlib modules
        and not os.path.abspath(f.f_code.co_filename).startswith((*_STDLIB_DIRS, _RAVYN_DIR))
    ]
    return [_describe(f) for f in (ours or frames)[:MAX_FRAMES]]


def _describe(frame: FrameType) -> str:
    module = frame.f_globals.get("__name__", "?")
    return f"{module}.{frame.f_code.co_qualname} ({frame.f_code.co_filename}:{frame.f_lineno})"
