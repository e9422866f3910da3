"""Suspending listeners emitted in a burst, against the same events emitted one by one.

10 listeners that each ``await asyncio.sleep(0)``. "one by one": ``emit(wait=True)`` per
event. "burst": N ``emit()`` then ``idle()``. Beside them, raw asyncio the same two ways
(``gather`` per event; one task per listener for the whole burst), and each with the cyclic
garbage collector on and off. CPU seconds of this process (``time.process_time``), best of
5 rounds with the cases interleaved, so that other load on the machine does not decide the
ratios; the share of that time spent in ``gc`` collections is measured with
``gc.callbacks``. Each ravyn round runs on a bus of its own, stopped after it, so that its
pool of carriers is not walked by the collector while asyncio is measured.

Before that, what a burst leaves: the gc-tracked objects each suspended listener keeps while the
burst is in flight (ravyn's carried listener against asyncio's own task), and the tracked
objects and resident memory of the process after ``idle()``, once the pool has trimmed its
idle carriers, and after ``stop()``.

Run: ``.venv/bin/python bench/bench_burst.py [--burst 1000]`` (about 90 s). To measure
advice on the collector for apps that emit such bursts: ``--freeze`` calls ``gc.freeze()``
first, as an app may once started (what exists then is never walked again), and
``--threshold 10000,50,100`` sets ``gc.set_threshold`` first.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import time
from collections.abc import Awaitable, Callable

from ravyn.events import EventBus, Registry, observable, use_registry
from ravyn.logging import configure_logging

LISTENERS = 10
EVENTS = 20_000
ROUNDS = 5
TRIM_WAIT = 2.5  # seconds: more than twice the pool's trim_after, so that it has trimmed


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


def resident_mib() -> float:
    """Resident memory of this process (Linux), in MiB."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


async def rates(registry: Registry, burst: int, clock: CollectorClock) -> None:
    listeners = make_listeners()
    rounds = EVENTS // burst

    async def one_by_one(bus: EventBus) -> None:
        for _ in range(burst):
            await bus.emit("tick", None, wait=True)

    async def in_a_burst(bus: EventBus) -> None:
        for _ in range(burst):
            await bus.emit("tick", None)
        await bus.idle()

    async def raw_one_by_one(bus: EventBus | None) -> None:
        for _ in range(burst):
            await asyncio.gather(*(listener(None) for listener in listeners))

    async def raw_burst(bus: EventBus | None) -> None:
        await asyncio.gather(*(listener(None) for _ in range(burst) for listener in listeners))

    cases: dict[str, tuple[Callable[..., Awaitable[None]], bool]] = {
        "ravyn emit(wait=True) one by one": (one_by_one, True),
        "ravyn emit() burst, then idle()": (in_a_burst, True),
        "asyncio gather per event": (raw_one_by_one, False),
        "asyncio one task per listener, burst": (raw_burst, False),
    }

    async def measure(run: Callable[..., Awaitable[None]], on_a_bus: bool) -> tuple[float, ...]:
        bus = EventBus(registry) if on_a_bus else None
        if bus is not None:
            await bus.start()
        gc.collect()
        clock.seconds, clock.full = 0.0, 0
        started = time.process_time()
        for _ in range(rounds):
            await run(bus)
        elapsed = time.process_time() - started
        in_gc, full = clock.seconds, clock.full
        if bus is not None:
            await bus.stop()
        return rounds * burst / elapsed, in_gc / elapsed, full

    for collector in ("on", "off"):
        if collector == "off":
            gc.disable()
        best: dict[str, tuple[float, ...]] = {label: (0.0, 0.0, 0) for label in cases}
        for _ in range(ROUNDS):
            for label, (run, on_a_bus) in cases.items():
                outcome = await measure(run, on_a_bus)
                if outcome[0] > best[label][0]:
                    best[label] = outcome
        gc.enable()
        for label, (rate, in_gc, full) in best.items():
            print(
                f"  gc {collector:3}  {label:38} {rate:9,.0f}   "
                f"in gc {in_gc:4.0%} ({full} full collections)"
            )
        ours = best["ravyn emit() burst, then idle()"][0]
        raw = best["asyncio one task per listener, burst"][0]
        print(
            f"  gc {collector:3}  burst / one by one: "
            f"ravyn {ours / best['ravyn emit(wait=True) one by one'][0]:.2f}x, "
            f"asyncio {raw / best['asyncio gather per event'][0]:.2f}x; "
            f"ravyn burst / asyncio burst {ours / raw:.2f}x"
        )
        if collector == "on":
            alone = await emit_alone(registry)
            print(
                f"  gc on   ravyn emit() of an event no listener takes: {alone * 1e6:.2f} µs "
                f"({alone * ours:.0%} of the burst's time per event; raw asyncio has no event)"
            )


async def emit_alone(registry: Registry) -> float:
    """CPU seconds of one ``emit()`` that runs no listener: the event's own cost."""
    bus = EventBus(registry)
    await bus.start()
    best = float("inf")
    for _ in range(ROUNDS):
        started = time.process_time()
        for _ in range(EVENTS):
            await bus.emit("nobody", None)
        best = min(best, (time.process_time() - started) / EVENTS)
    await bus.stop()
    return best


async def tracked_objects() -> int:
    """Tracked objects alive once what ended has been freed: the loop lets go of finished
    tasks one turn after they end, and cycles wait for a collection."""
    for _ in range(2):
        await asyncio.sleep(0)
    gc.collect()
    return len(gc.get_objects())


async def objects(registry: Registry, burst: int) -> None:
    """Tracked objects per suspended listener in flight, and what a burst leaves."""
    listeners = make_listeners()
    before = await tracked_objects()
    gc.disable()
    tasks = [asyncio.ensure_future(listener(None)) for _ in range(burst) for listener in listeners]
    await asyncio.sleep(0)  # each task has run to its sleep(0)
    raw = (len(gc.get_objects()) - before) / len(tasks)
    gc.enable()
    await asyncio.gather(*tasks)
    del tasks

    objects_before, resident_before = await tracked_objects(), resident_mib()
    bus = EventBus(registry)
    await bus.start()
    carried = []
    for _ in range(2):  # the first burst makes the carriers, the second finds them idle
        before = await tracked_objects()
        gc.disable()
        for _ in range(burst):
            await bus.emit("tick", None)
        carried.append((len(gc.get_objects()) - before) / (burst * LISTENERS))
        gc.enable()
        await bus.idle()
    print(
        f"  tracked objects per suspended listener in flight: ravyn {carried[0]:.1f} "
        f"(pool warm: {carried[1]:.1f}), asyncio task {raw:.1f}"
    )

    async def left(when: str) -> None:
        print(
            f"  {when:34} {await tracked_objects() - objects_before:+8,} tracked objects, "
            f"{resident_mib() - resident_before:+6.1f} MiB resident"
        )

    await left("after the bursts and idle()")
    await asyncio.sleep(TRIM_WAIT)
    await left(f"{TRIM_WAIT:.1f} s later (pool trimmed)")
    await bus.stop()
    await left("after stop()")


async def main(burst: int) -> None:
    configure_logging(level="WARNING")
    with use_registry(Registry()) as registry:
        for listener in make_listeners():
            observable(listen=["tick"])(listener)
    clock = CollectorClock()
    print(f"{LISTENERS} listeners awaiting sleep(0), bursts of {burst} events")
    await objects(registry, burst)  # first: the memory figures start from a fresh process
    print("events per CPU second:")
    await rates(registry, burst, clock)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--burst", type=int, default=1000)
    parser.add_argument("--freeze", action="store_true", help="gc.freeze() before measuring")
    parser.add_argument("--threshold", help="gc.set_threshold before measuring: 10000,50,100")
    arguments = parser.parse_args()
    if arguments.threshold:
        gc.set_threshold(*(int(value) for value in arguments.threshold.split(",")))
    if arguments.freeze:
        gc.collect()
        gc.freeze()
    asyncio.run(main(arguments.burst))
