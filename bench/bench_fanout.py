"""Fan-out speed: events/s of emit-and-complete to N trivial async listeners.

Compared, in the same run, with a hand-written ``asyncio.gather`` over the same functions
(the floor a concurrent fan-out must beat), the sequential loop (the ceiling: no
concurrency at all), blinker's ``send_async`` and pyee's ``AsyncIOEventEmitter``.
Run: ``.venv/bin/python bench/bench_fanout.py`` (about 30 s).
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Awaitable, Callable

import blinker
from pyee.asyncio import AsyncIOEventEmitter

from ravyn.events import EventBus, Registry, observable, use_registry

ROUNDS = 5
TARGET_SECONDS = 0.2  # per round and system


def make_listeners(n: int, counter: list[int], suspend: bool) -> list[Callable]:
    def make(index: int) -> Callable:
        if suspend:

            async def listener(payload):
                await asyncio.sleep(0)
                counter[0] += 1

        else:

            async def listener(payload):
                counter[0] += 1

        listener.__qualname__ = f"listener_{index}"  # a listener's name must be unique
        return listener

    return [make(index) for index in range(n)]


async def rate(emit_once: Callable[[], Awaitable[None]]) -> float:
    """Median events/s over ROUNDS timed rounds of ``emit_once``."""
    iterations = 1
    while True:  # calibrate
        start = time.perf_counter()
        for _ in range(iterations):
            await emit_once()
        if time.perf_counter() - start > 0.02:
            break
        iterations *= 2
    per_round = max(1, int(iterations * TARGET_SECONDS / (time.perf_counter() - start)))
    rates = []
    for _ in range(ROUNDS):
        start = time.perf_counter()
        for _ in range(per_round):
            await emit_once()
        rates.append(per_round / (time.perf_counter() - start))
    return statistics.median(rates)


async def measure(n: int, suspend: bool) -> dict[str, float]:
    counter = [0]
    listeners = make_listeners(n, counter, suspend)
    payload = {"user_id": 1}

    async def gather() -> None:
        await asyncio.gather(*(listener(payload) for listener in listeners))

    async def sequential() -> None:
        for listener in listeners:
            await listener(payload)

    signal = blinker.Signal()
    for listener in listeners:
        signal.connect(listener, weak=False)

    async def blinker_send() -> None:
        await signal.send_async(payload, _sync_wrapper=None)

    emitter = AsyncIOEventEmitter()
    for listener in listeners:
        emitter.on("user_registered", listener)

    async def pyee_emit() -> None:
        emitter.emit("user_registered", payload)
        await emitter.wait_for_complete()

    with use_registry(Registry()) as registry:
        for listener in listeners:
            observable(listen=["user_registered"])(listener)
    bus = EventBus(registry)

    async def ravyn_emit() -> None:
        await bus.emit("user_registered", payload, wait=True)

    figures = {}
    async with bus:
        for label, emit_once in (
            ("gather", gather),
            ("sequential", sequential),
            ("blinker send_async", blinker_send),
            ("pyee AsyncIOEventEmitter", pyee_emit),
            ("ravyn bus.emit(wait=True)", ravyn_emit),
        ):
            before = counter[0]
            figures[label] = await rate(emit_once)
            assert counter[0] > before, f"{label} ran no listener"
    return figures


async def main() -> None:
    cases = [(1, False), (10, False), (100, False), (10, True)]
    rows = []
    for n, suspend in cases:
        figures = await measure(n, suspend)
        case = f"N={n}" + (" sleep(0)" if suspend else "")
        print(f"\n{case}: events/s (ratio vs gather)")
        for label, value in figures.items():
            print(f"  {label:28} {value:12,.0f}  {value / figures['gather']:6.2f}x")
        rows.append((case, figures))
    print("\nSummary: ravyn events/s, ratio vs gather (target >= 0.7x at N=10 and N=100)")
    print(f"  {'case':16} {'ravyn':>12} {'gather':>12} {'ratio':>7}")
    for case, figures in rows:
        ours, floor = figures["ravyn bus.emit(wait=True)"], figures["gather"]
        print(f"  {case:16} {ours:12,.0f} {floor:12,.0f} {ours / floor:6.2f}x")


if __name__ == "__main__":
    asyncio.run(main())
