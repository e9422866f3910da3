"""Bulkhead: at most ``max_concurrent`` calls at once, so one slow dependency cannot take
every worker with it. Up to ``max_waiting`` more calls wait for a slot (at most ``timeout``
seconds); past that a call is refused (503)."""

from __future__ import annotations

import asyncio
from collections import deque

from ravyn.resilience.policy import MUST_WAIT, Refused, check_positive


class Bulkhead:
    """A pool of ``max_concurrent`` slots. Listeners (``admit(wait=True)``) always wait for
    a slot: refusing would lose their event."""

    def __init__(
        self,
        max_concurrent: int = 10,
        max_waiting: int = 0,
        *,
        timeout: float | None = None,
        name: str = "bulkhead",
    ) -> None:
        check_positive(max_concurrent, "Bulkhead(max_concurrent=...)", whole=True)
        if max_waiting:
            check_positive(max_waiting, "Bulkhead(max_waiting=...)", whole=True)
        if timeout is not None:
            check_positive(timeout, "Bulkhead(timeout=...)")
        self.max_concurrent = max_concurrent
        self.max_waiting = max_waiting
        self.timeout = timeout
        self.name = name
        self.active = 0  # calls holding a slot
        self.waiters: deque[asyncio.Future[None]] = deque()  # calls waiting for one

    def admit_now(self, key: str = "") -> object:
        if self.active < self.max_concurrent and not self.waiters:
            self.active += 1
            return None
        return MUST_WAIT  # a queue: ``admit`` waits in it, or refuses

    async def admit(self, key: str = "", *, wait: bool = False) -> None:
        if self.admit_now(key) is not MUST_WAIT:
            return
        if not wait and len(self.waiters) >= self.max_waiting:
            raise self._refusal()
        waiter = asyncio.get_running_loop().create_future()
        self.waiters.append(waiter)
        try:
            async with asyncio.timeout(None if wait else self.timeout):
                await waiter  # release() hands its slot over: ``active`` stays counted
        except BaseException as exc:
            if waiter.done() and not waiter.cancelled():
                self.release(None, None)  # got the slot as it gave up: pass it on
            elif waiter in self.waiters:  # release() may have dropped it already
                self.waiters.remove(waiter)
            if isinstance(exc, TimeoutError):
                raise self._refusal() from None
            raise

    def release(self, ticket: None, failed: bool | None) -> None:
        while self.waiters:
            waiter = self.waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return
        self.active -= 1

    def _refusal(self) -> Refused:
        detail = f"Service busy: bulkhead {self.name!r} is full."
        return Refused(503, detail, pattern="bulkhead", name=self.name)
