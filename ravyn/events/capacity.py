"""How many listener executions a bus has in flight, and who waits on that number.

Backpressure: at ``max_in_flight`` an emitter waits for room (logged once per saturation,
counted as ``waiting``) instead of dropping events. ``idle()`` waits for zero.
"""

from __future__ import annotations

import asyncio

import structlog

from ravyn.events.metrics import Counters

logger = structlog.get_logger("ravyn.events")


class Capacity:
    def __init__(self, max_in_flight: int) -> None:
        if max_in_flight < 1:
            raise ValueError("max_in_flight must be 1 or more.")
        self.max_in_flight = max_in_flight
        self.in_flight = 0
        self._idle_waiters: list[asyncio.Future[None]] = []
        self._room_waiters: list[asyncio.Future[None]] = []
        self._saturated = False

    @property
    def full(self) -> bool:
        return self.in_flight >= self.max_in_flight

    def reset(self) -> None:
        """A new event loop: work left on a closed one can never finish, stop counting it."""
        self.in_flight = 0
        self._idle_waiters.clear()
        self._room_waiters.clear()

    def free(self, count: int = 1) -> None:
        """``count`` executions (or deferred events) less in flight: wake who waits."""
        self.in_flight -= count
        if self._room_waiters:
            for _ in range(min(count, self.max_in_flight - self.in_flight)):
                self._wake_one_room_waiter()
        if not self.in_flight:
            waiters, self._idle_waiters = self._idle_waiters, []
            for waiter in waiters:
                if not waiter.done():
                    waiter.set_result(None)

    async def idle(self) -> None:
        """Wait until nothing is in flight."""
        while self.in_flight:
            waiter = asyncio.get_running_loop().create_future()
            self._idle_waiters.append(waiter)
            await waiter

    async def wait_for_room(self, event_name: str, event_counters: Counters) -> None:
        """At ``max_in_flight``, wait for an execution to end."""
        if not self._saturated:
            self._saturated = True
            logger.warning(
                "bus_saturated",
                max_in_flight=self.max_in_flight,
                event_name=event_name,
                action="emit waits for a listener to finish",
            )
        event_counters.waiting += 1
        try:
            while self.in_flight >= self.max_in_flight:
                waiter = asyncio.get_running_loop().create_future()
                self._room_waiters.append(waiter)
                await waiter
        finally:
            event_counters.waiting -= 1
        if self._saturated and not self._room_waiters:
            self._saturated = False
            logger.info("bus_unsaturated", in_flight=self.in_flight)

    def _wake_one_room_waiter(self) -> None:
        while self._room_waiters:
            waiter = self._room_waiters.pop(0)
            if not waiter.done():
                waiter.set_result(None)
                return
