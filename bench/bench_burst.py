"""Suspending listeners emitted in a burst, against the same events emitted one by one.

10 listeners that each ``await asyncio.sleep(0)``. "one by one": ``emit(wait=True)`` per
event. "burst": N ``emit()`` then ``idle()``. Beside them, raw asyncio the same two ways
(``gather`` per event; one task per listener for the whole burst), and each with the cyclic
garbage collector on and off. CPU seconds of this process (``time.process_time``), best of
5 rounds, so that other load on the machine does not decide the ratios; the share of that
time spent in ``gc`` collections is measured with ``gc.callbacks``.

Run: ``.venv/bin/python bench/bench_burst.py [--burst 1000]``
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import time
from collections.abc import Awaitable, Callable

from ravyn.events import EventBus, Registry, observable, use_registry
from ravyn.logging import configure_logging

LISTENERS = 10
EVENTS = 20_000
ROUNDS = 5


class CollectorClock:
    """CPU seconds spent in gc collections, and how many full (generation 2) ones."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self.full = 0
        self._started = 0.0
        gc.callbacks.append(self._on_gc)

    def _on_gc(self, phase: str, info: dict) -> None:
        if phase == "start":
            self._started = time.process_time()
            return
        self.seconds += time.process_time() - self._started
        self.full += info["generation"] == 2


def make_listeners() -> list[Callable[[object], Awaitable[None]]]:
    def make(index: int) -> Callable[[object], Awaitable[None]]:
        async def listener(payload: object) -> None:
            await asyncio.sleep(0)

        listener.__qualname__ = f"listener_{index}"  # a listener's name must be unique
        return listener

    return [make(index) for index in range(LISTENERS)]


async def main(burst: int) -> None:
    configure_logging(level="WARNING")
    listeners = make_listeners()
    with use_registry(Registry()) as registry:
        for listener in listeners:
            observable(listen=["tick"])(listener)
    bus = EventBus(registry)
    clock = CollectorClock()

    async def one_by_one() -> None:
        for _ in range(burst):
            await bus.emit("tick", None, wait=True)

    async def in_a_burst() -> None:
        for _ in range(burst):
            await bus.emit("tick", None)
        await bus.idle()

    async def raw_one_by_one() -> None:
        for _ in range(burst):
            await asyncio.gather(*(listener(None) for listener in listeners))

    async def raw_burst() -> None:
        await asyncio.gather(*(listener(None) for _ in range(burst) for listener in listeners))

    cases = {
        "ravyn emit(wait=True) one by one": one_by_one,
        "ravyn emit() burst, then idle()": in_a_burst,
        "asyncio gather per event": raw_one_by_one,
        "asyncio one task per listener, burst": raw_burst,
    }
    print(f"{LISTENERS} listeners awaiting sleep(0), bursts of {burst} events, events per CPU s")
    async with bus:
        for collector in ("on", "off"):
            if collector == "off":
                gc.disable()
            rates = {}
            for label, run in cases.items():
                best = (0.0, 0.0, 0)
                for _ in range(ROUNDS):
                    clock.seconds, clock.full = 0.0, 0
                    started = time.process_time()
                    for _ in range(EVENTS // burst):
                        await run()
                    elapsed = time.process_time() - started
                    rate = EVENTS // burst * burst / elapsed
                    if rate > best[0]:
                        best = (rate, clock.seconds / elapsed, clock.full)
                rates[label] = best[0]
                print(
                    f"  gc {collector:3}  {label:38} {best[0]:9,.0f}   "
                    f"in gc {best[1]:4.0%} ({best[2]} full collections)"
                )
            gc.enable()
            ours = (
                rates["ravyn emit() burst, then idle()"] / rates["ravyn emit(wait=True) one by one"]
            )
            raw = rates["asyncio one task per listener, burst"] / rates["asyncio gather per event"]
            print(f"  gc {collector:3}  burst / one by one: ravyn {ours:.2f}x, asyncio {raw:.2f}x")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--burst", type=int, default=1000)
    asyncio.run(main(parser.parse_args().burst))
