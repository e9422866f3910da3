"""The background tasks of a transport, and how they end at shutdown.

A task is either *waiting* (blocked on a fetch, a subscription, a retry backoff: nothing is
lost by cancelling it) or *working* (running a listener: it deserves the grace period).
`stop` cancels the waiting ones at once, lets the working ones finish until the deadline,
then cancels what is left: its message stays unacknowledged, for another consumer.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Coroutine
from typing import Any

import structlog

from ravyn.events.transports.backoff import Backoff

logger = structlog.get_logger("ravyn.events.transports")


class TransportTasks:
    def __init__(self, transport: str) -> None:
        self.transport = transport
        self.stopping = False
        self._tasks: dict[asyncio.Future[None], bool] = {}  # task -> waiting
        self._backoff = Backoff()

    def spawn(self, coroutine: Coroutine[Any, Any, None], *, waiting: bool = False) -> None:
        if self.stopping:
            coroutine.close()  # its message stays pending, for a consumer that stays
            return
        task = asyncio.ensure_future(coroutine)
        self._tasks[task] = waiting
        task.add_done_callback(self._forget)

    def waiting(self, waiting: bool) -> None:
        """Mark the current task as waiting (cancelled at stop) or working (drained at stop)."""
        task = asyncio.current_task()
        if task in self._tasks:
            self._tasks[task] = waiting

    async def pause(
        self,
        loop: str,
        exc: BaseException,
        failures: int,
        *,
        crashed: bool = False,
        **context: Any,
    ) -> None:
        """Log a lost connection (or a crash of the loop's step, at error) and wait before
        the next try (longer after each failure)."""
        delay = self._backoff.delay(failures)
        log = logger.error if crashed else logger.warning
        log(
            "consumer_crashed" if crashed else "transport_unreachable",
            transport=self.transport,
            loop=loop,
            error=repr(exc),
            failures=failures,
            retry_in=round(delay, 3),
            **context,
        )
        was_waiting = self._tasks.get(asyncio.current_task(), False)  # type: ignore[arg-type]
        self.waiting(True)
        await asyncio.sleep(delay)
        self.waiting(was_waiting)

    async def stop(self, deadline: float) -> None:
        self.stopping = True
        for task, waiting in list(self._tasks.items()):
            if waiting:
                task.cancel()
        if not self._tasks:
            return
        _, late = await asyncio.wait(
            list(self._tasks), timeout=max(0.0, deadline - time.monotonic())
        )
        for task in late:
            task.cancel()
        if late:
            logger.warning(
                "in_flight_left_pending",
                transport=self.transport,
                tasks=len(late),
                reason="grace period over: their messages stay unacknowledged",
            )
            await asyncio.wait(late)

    def _forget(self, task: asyncio.Future[None]) -> None:
        self._tasks.pop(task, None)
        if not task.cancelled() and task.exception() is not None:
            logger.error("consumer_crashed", transport=self.transport, error=repr(task.exception()))
