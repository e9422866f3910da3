"""Shared by the resilience tests: hold handlers inside a call, wait on conditions."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager

import httpx


class Gate:
    """Handlers wait at the gate (in the server's loop) until the test opens it, so a test
    can hold calls in flight; ``inside`` counts those waiting."""

    def __init__(self) -> None:
        self.open_event = threading.Event()
        self.inside = 0

    async def wait(self) -> None:
        self.inside += 1
        try:
            while not self.open_event.is_set():
                await asyncio.sleep(0.005)
        finally:
            self.inside -= 1

    def open(self) -> None:
        self.open_event.set()


def wait_until(condition: Callable[[], bool], timeout: float = 10.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"still false after {timeout}s: {what or condition}")
        time.sleep(0.01)


def in_background(pool: ThreadPoolExecutor, url: str, **options: object) -> Future[httpx.Response]:
    """A GET sent from another thread (it will wait at a gate)."""
    return pool.submit(httpx.get, url, timeout=30, **options)


@contextmanager
def held_at(gate: Gate, url: str, count: int = 2) -> Iterator[None]:
    """For the block, ``count`` GETs of ``url`` (sent from other threads) wait inside
    ``gate``; then it opens, and each must have answered 200."""
    with ThreadPoolExecutor(count) as pool:
        held = [in_background(pool, url) for _ in range(count)]
        wait_until(lambda: gate.inside == count, what=f"{count} calls waiting at the gate")
        try:
            yield
        finally:
            gate.open()
        assert [future.result().status_code for future in held] == [200] * count
