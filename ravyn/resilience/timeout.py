"""Timeouts for many concurrent calls with one timer.

``asyncio.timeout`` schedules and cancels a timer per call, which costs about as much as a
whole in-process request. Every call under one ``Deadlines`` has the same timeout, so their
deadlines expire in the order the calls started: a queue, with one timer set for the
oldest deadline, does for all of them. A call past its deadline has its task cancelled,
as ``asyncio.timeout`` would, and ``finish`` tells the caller it was a timeout.
"""

from __future__ import annotations

import asyncio
import sys
from asyncio import current_task, get_running_loop
from collections import deque
from time import monotonic
from typing import Any

from ravyn.resilience.policy import check_positive

if sys.version_info < (3, 12):  # current_task is a Python function around this dict there
    from asyncio.tasks import _current_tasks

    task_of = _current_tasks.get
else:
    task_of = current_task

RUNNING, FINISHED, EXPIRED = 0, 1, 2
STATE, AT, TASK, RESPONSE = 0, 1, 2, 3
Deadline = list[Any]
"""One call's deadline: ``[state, at, task, response]``, a list because a call starts one
per request and a list costs a fifth of an object's construction. ``response``
(optional, with a ``started`` flag): once the response has started the call is no longer
cut, so a stream is not ended early."""


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
        deadline = [RUNNING, monotonic() + self.seconds, task_of(loop), response]
        self._queue.append(deadline)
        if self._timer is None:
            self._timer = loop.call_at(deadline[AT], self._expire, loop)
        return deadline

    def finish(self, deadline: Deadline) -> bool:
        """End the call's deadline; True when it expired (the call was cancelled for it,
        and the cancellation is withdrawn: turn it into the timeout's answer)."""
        expired = deadline[STATE] == EXPIRED
        if expired:
            deadline[TASK].uncancel()
        deadline[STATE] = FINISHED
        queue = self._queue
        while queue and queue[0][STATE] == FINISHED:  # calls mostly end in the order they began
            queue.popleft()
        return expired

    def _expire(self, loop: asyncio.AbstractEventLoop) -> None:
        self._timer = None
        queue = self._queue
        now = monotonic()
        while queue and (queue[0][AT] <= now or queue[0][STATE] != RUNNING):
            deadline = queue.popleft()
            if deadline[STATE] != RUNNING:
                continue
            response = deadline[RESPONSE]
            if response is not None and response.started:
                deadline[STATE] = FINISHED
                continue
            deadline[STATE] = EXPIRED
            deadline[TASK].cancel()
        if queue:
            self._timer = loop.call_at(queue[0][AT], self._expire, loop)
