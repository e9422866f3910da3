"""Timeouts for many concurrent calls with one timer.

``asyncio.timeout`` schedules and cancels a timer per call, which costs about as much as a
whole in-process request. Every call under one ``Deadlines`` has the same timeout, so their
deadlines expire in the order the calls started: a queue, with one timer set for the
oldest deadline, does for all of them. A call past its deadline has its task cancelled,
as ``asyncio.timeout`` would, and ``finish`` tells the caller it was a timeout.
"""

from __future__ import annotations

import asyncio
from asyncio import current_task, get_running_loop
from collections import deque
from time import monotonic
from typing import Any

from ravyn.resilience.policy import check_positive

RUNNING, FINISHED, EXPIRED = 0, 1, 2


class Deadline:
    """One call's deadline. ``response`` (optional, with a ``started`` flag): once the
    response has started the call is no longer cut, so a stream is not ended early."""

    __slots__ = ("at", "task", "state", "response")

    def __init__(self, at: float, task: asyncio.Task[Any], response: Any) -> None:
        self.at = at
        self.task = task
        self.state = RUNNING
        self.response = response


class Deadlines:
    """Every call started with ``start`` gets ``seconds`` to run in its own task."""

    def __init__(self, seconds: float) -> None:
        check_positive(seconds, "timeout")
        self.seconds = seconds
        self._queue: deque[Deadline] = deque()
        self._timer: asyncio.TimerHandle | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def start(self, response: Any = None) -> Deadline:
        loop = get_running_loop()
        if loop is not self._loop:  # a new loop (a test client's): the old one's calls are gone
            self._loop, self._timer = loop, None
            self._queue.clear()
        # monotonic() is the loop's clock (asyncio's, and uvloop's to the millisecond)
        deadline = Deadline(monotonic() + self.seconds, current_task(loop), response)
        self._queue.append(deadline)
        if self._timer is None:
            self._timer = loop.call_at(deadline.at, self._expire, loop)
        return deadline

    def finish(self, deadline: Deadline) -> bool:
        """End the call's deadline; True when it expired (the call was cancelled for it,
        and the cancellation is withdrawn: turn it into the timeout's answer)."""
        expired = deadline.state == EXPIRED
        if expired:
            deadline.task.uncancel()
        deadline.state = FINISHED
        queue = self._queue
        while queue and queue[0].state == FINISHED:  # calls mostly end in the order they began
            queue.popleft()
        return expired

    def _expire(self, loop: asyncio.AbstractEventLoop) -> None:
        self._timer = None
        queue = self._queue
        now = monotonic()
        while queue and (queue[0].at <= now or queue[0].state != RUNNING):
            deadline = queue.popleft()
            if deadline.state != RUNNING:
                continue
            response = deadline.response
            if response is not None and response.started:
                deadline.state = FINISHED
                continue
            deadline.state = EXPIRED
            deadline.task.cancel()
        if queue:
            self._timer = loop.call_at(queue[0].at, self._expire, loop)
