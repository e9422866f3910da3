import asyncio
import inspect
import threading

import anyio
import pytest
from structlog.testing import capture_logs

from ravyn.core.caches.decorator import cache, current_cache
from ravyn.core.caches.memory import InMemoryCache

pytestmark = pytest.mark.timeout(10)


async def test_call_without_arguments_is_cached_under_the_function_name():
    backend = InMemoryCache()
    calls = []

    @cache(ttl=600, backend=backend)
    async def get_products() -> dict:
        calls.append(1)
        return {"products": len(calls)}

    assert await get_products() == {"products": 1}
    assert await get_products() == {"products": 1}
    assert await backend.get("get_products") == {"products": 1}

    await backend.delete("get_products")  # the documented invalidation
    assert await get_products() == {"products": 2}


async def test_arguments_select_distinct_entries():
    backend = InMemoryCache()
    calls = []

    @cache(backend=backend)
    async def price(product_id: int, currency: str = "EUR") -> str:
        calls.append(product_id)
        return f"{product_id}-{currency}"

    assert await price(1) == "1-EUR"
    assert await price(2) == "2-EUR"
    assert await price(1) == "1-EUR"
    assert await price(1, currency="USD") == "1-USD"
    assert calls == [1, 2, 1]
    assert len(backend) == 3


async def test_key_callable_overrides_the_key():
    backend = InMemoryCache()

    @cache(backend=backend, key=lambda user_id, **_: f"profile:{user_id}")
    async def profile(user_id: int, verbose: bool = False) -> dict:
        return {"id": user_id, "verbose": verbose}

    assert await profile(7, verbose=True) == {"id": 7, "verbose": True}
    assert await backend.get("profile:7") == {"id": 7, "verbose": True}
    # Same key whatever `verbose` is: the key function said so.
    assert await profile(7) == {"id": 7, "verbose": True}


async def test_entry_expires_after_ttl(monkeypatch):
    clock = [1000.0]
    monkeypatch.setattr("ravyn.core.caches.memory.monotonic", lambda: clock[0])
    backend = InMemoryCache()
    calls = []

    @cache(ttl=10, backend=backend)
    async def now() -> int:
        calls.append(1)
        return len(calls)

    assert await now() == 1
    clock[0] += 9
    assert await now() == 1
    clock[0] += 1
    assert await now() == 2


async def test_concurrent_misses_compute_once():
    backend = InMemoryCache()
    calls = []
    release = anyio.Event()

    @cache(backend=backend)
    async def slow(x: int) -> int:
        calls.append(x)
        await release.wait()
        return x * 10

    results = []

    async def call() -> None:
        results.append(await slow(4))

    async with anyio.create_task_group() as tg:
        for _ in range(10):
            tg.start_soon(call)
        await anyio.wait_all_tasks_blocked()
        release.set()
    assert results == [40] * 10
    assert calls == [4]


async def test_errors_are_shared_with_waiters_and_never_cached():
    backend = InMemoryCache()
    calls = []
    release = anyio.Event()

    @cache(backend=backend)
    async def flaky() -> str:
        calls.append(1)
        if len(calls) == 1:
            await release.wait()
            raise ConnectionError("database down")
        return "ok"

    errors = []

    async def call() -> None:
        try:
            await flaky()
        except ConnectionError as exc:
            errors.append(exc)

    async with anyio.create_task_group() as tg:
        for _ in range(3):
            tg.start_soon(call)
        await anyio.wait_all_tasks_blocked()
        release.set()
    assert len(errors) == 3 and len(calls) == 1
    assert await backend.get("flaky", "absent") == "absent"
    assert await flaky() == "ok"
    assert len(calls) == 2


async def test_waiters_take_over_when_the_computing_call_is_cancelled():
    backend = InMemoryCache()
    calls = []
    first_started = anyio.Event()

    @cache(backend=backend)
    async def compute() -> int:
        calls.append(1)
        if len(calls) == 1:
            first_started.set()
            await anyio.sleep_forever()
        return len(calls)

    async with anyio.create_task_group() as tg:
        leader = anyio.CancelScope()

        async def first() -> None:
            with leader:
                await compute()

        tg.start_soon(first)
        await first_started.wait()
        with anyio.fail_after(5):
            async with anyio.create_task_group() as waiters:
                waiters.start_soon(compute)
                await anyio.wait_all_tasks_blocked()
                leader.cancel()
    assert calls == [1, 1]
    assert await backend.get("compute") == 2


async def test_failing_backend_is_logged_and_bypassed():
    class BrokenBackend:
        async def get(self, key, default=None):
            raise ConnectionError("cache unreachable")

        async def set(self, key, value, ttl=None):
            raise ConnectionError("cache unreachable")

        async def delete(self, key): ...

        async def clear(self): ...

    @cache(backend=BrokenBackend())
    async def answer() -> int:
        return 42

    with capture_logs() as logs:
        assert await answer() == 42
    failed = [entry for entry in logs if entry["event"] == "cache_backend_failed"]
    # Every attempt is logged: the miss, the leader's second look, and the store.
    assert [entry["operation"] for entry in failed] == ["get", "get", "set"]
    assert failed[0]["key"] == "answer"


async def test_a_flight_that_lands_during_a_miss_is_not_computed_again():
    landed = anyio.Event()

    class SlowMissCache(InMemoryCache):
        hold_next_get = False

        async def get(self, key, default=None):
            value = await super().get(key, default)
            if self.hold_next_get:  # the second caller's miss returns only after the first landed
                self.hold_next_get = False
                await landed.wait()
            return value

    backend = SlowMissCache()
    calls = []

    @cache(backend=backend)
    async def answer() -> int:
        calls.append(1)
        backend.hold_next_get = True
        await anyio.sleep(0)
        return 42

    async def first() -> None:
        assert await answer() == 42
        landed.set()

    async with anyio.create_task_group() as tg:
        tg.start_soon(first)
        tg.start_soon(answer)
    assert calls == [1]


def test_sync_function_is_cached_without_an_event_loop():
    backend = InMemoryCache()
    calls = []

    @cache(backend=backend)
    def square(x: int) -> int:
        calls.append(x)
        return x * x

    assert square(3) == 9
    assert square(3) == 9
    assert calls == [3]
    assert not inspect.iscoroutinefunction(square)


async def test_sync_function_in_worker_threads_uses_the_loop_and_computes_once():
    both_missed = threading.Event()

    class CountingCache(InMemoryCache):
        misses = 0

        async def get(self, key, default=None):
            value = await super().get(key, default)
            if value is default:
                self.misses += 1
                if self.misses == 2:
                    both_missed.set()
            return value

    backend = CountingCache()
    calls = []

    @cache(backend=backend)
    def report(day: str) -> str:
        calls.append(day)
        # Hold the flight until the other thread has missed too: it must then join it.
        assert both_missed.wait(timeout=5)
        return f"report {day}"

    results: list[str] = []

    async def in_thread() -> None:
        results.append(await anyio.to_thread.run_sync(report, "mon"))

    async with anyio.create_task_group() as tg:
        tg.start_soon(in_thread)
        tg.start_soon(in_thread)
    assert results == ["report mon"] * 2
    assert calls == ["mon"]


async def test_sync_function_called_on_the_event_loop_thread():
    backend = InMemoryCache()
    calls = []

    @cache(backend=backend)
    def total() -> int:
        calls.append(1)
        return 5

    assert total() == 5
    assert total() == 5
    assert calls == [1]


class SuspendingBackend(InMemoryCache):
    """Stands for a remote backend: its get waits on the event loop."""

    async def get(self, key, default=None):
        await asyncio.sleep(0)  # suspends, even without a running loop
        return default


async def test_sync_function_on_the_loop_with_a_waiting_backend_says_what_to_do():
    @cache(backend=SuspendingBackend())
    def total() -> int:
        return 5

    with pytest.raises(RuntimeError, match="make the function async"):
        total()


def test_sync_function_without_a_loop_and_a_waiting_backend_says_what_to_do():
    @cache(backend=SuspendingBackend())
    def total() -> int:
        return 5

    with pytest.raises(RuntimeError, match="worker thread"):
        total()


async def test_sync_function_in_a_worker_thread_reaches_a_waiting_backend():
    backend = SuspendingBackend()

    @cache(backend=backend)
    def total() -> int:
        return 5

    assert await anyio.to_thread.run_sync(total) == 5
    assert await InMemoryCache.get(backend, "total") == 5


def test_wraps_keeps_name_and_signature_for_route_binding():
    @cache(ttl=1)
    async def handler(product_id: int, q: str = "") -> dict:
        """Doc."""
        return {}

    assert handler.__name__ == "handler"
    assert handler.__doc__ == "Doc."
    assert list(inspect.signature(handler).parameters) == ["product_id", "q"]
    assert inspect.iscoroutinefunction(handler)


async def test_default_backend_is_the_shared_default_cache():
    @cache()
    async def uses_default() -> str:
        return "value"

    await uses_default()
    assert await current_cache().get("uses_default") == "value"
    await current_cache().delete("uses_default")


def test_cache_above_a_route_handler_tells_to_swap_the_order():
    class RouteHandler:
        def __ravyn_attach_observable__(self, spec): ...

    with pytest.raises(TypeError, match="below"):
        cache(ttl=5)(RouteHandler())


def test_invalid_ttl_is_refused_at_decoration():
    with pytest.raises(ValueError, match="positive"):
        cache(ttl=0)
