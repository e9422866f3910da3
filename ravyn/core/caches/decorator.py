"""`cache(ttl=, backend=, key=)`: remember what a function returned.

Placed under a route decorator (`@get(...)` above `@cache(...)`), it caches the handler's
data, before it becomes a response. Concurrent misses of one key compute once per process
(single flight): the first caller computes, the others wait for its outcome, an error
included; errors are never stored, so the next call tries again. A failing backend
(Redis down) is logged and bypassed: the function still answers, uncached.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import anyio
import anyio.from_thread
import structlog

from ravyn.core.caches.base import CacheBackend, check_ttl, make_key
from ravyn.core.caches.memory import InMemoryCache
from ravyn.events.context import current_bus

logger = structlog.get_logger("ravyn.cache")

F = TypeVar("F", bound=Callable[..., Any])
KeyFunction = Callable[..., str]
KeyBuilder = Callable[[tuple[Any, ...], dict[str, Any]], str]
Backend = Callable[[], CacheBackend]


def current_cache() -> CacheBackend:
    """The backend of `cache(...)` given none: the one of the app serving this task
    (`Ravyn(cache=...)`, by default an `InMemoryCache` of its own), else the process
    default. Invalidate with `await current_cache().delete(key)`."""
    registry = current_bus().registry
    if registry.cache is None:
        registry.cache = InMemoryCache()
    backend: CacheBackend = registry.cache
    return backend


_MISSING = object()


@dataclass(slots=True)
class _Flight:
    """One computation of one key, shared by the callers that missed it meanwhile."""

    done: anyio.Event | threading.Event
    value: Any = None
    error: Exception | None = None
    finished: bool = False  # False after done: the computing caller was cancelled

    def resolve(self, value: Any) -> None:
        self.value = value
        self.finished = True

    def reject(self, error: Exception) -> None:
        self.error = error
        self.finished = True

    def outcome(self) -> Any:
        if self.error is not None:
            raise self.error
        return self.value


def cache(
    ttl: float | None = None,
    backend: CacheBackend | None = None,
    key: KeyFunction | None = None,
) -> Callable[[F], F]:
    """Cache the return value of an async or sync function for `ttl` seconds.

    The key is the function's `__name__` when it is called without arguments, else
    `name:<digest of the arguments>` (see `make_key`); `key=` is a callable receiving the
    call's arguments and returning the whole key. `ttl=None` uses the backend's default.
    Without `backend`, each call uses `current_cache()`: two apps never share entries.
    """
    check_ttl(ttl)
    chosen_backend = current_cache if backend is None else (lambda: backend)

    def decorate(func: F) -> F:
        if hasattr(func, "__ravyn_attach_observable__"):
            raise TypeError(
                "cache() caches a function's data, not a route: place @cache(...) below "
                "@get(...) (the route decorator goes on top)"
            )

        def key_for(args: tuple[Any, ...], kwargs: dict[str, Any]) -> str:
            if key is not None:
                return key(*args, **kwargs)
            return make_key(func.__name__, args, kwargs)

        if inspect.iscoroutinefunction(func):
            wrapper = _async_cached(func, chosen_backend, ttl, key_for)
        else:
            wrapper = _sync_cached(func, chosen_backend, ttl, key_for)
        return functools.wraps(func)(wrapper)  # type: ignore[return-value]

    return decorate


def _async_cached(
    func: Callable[..., Any], backend_now: Backend, ttl: float | None, key_for: KeyBuilder
) -> Callable[..., Any]:
    flights: dict[tuple[int, str], _Flight] = {}  # one flight per backend and key

    async def cached(*args: Any, **kwargs: Any) -> Any:
        cache_key = key_for(args, kwargs)
        backend = backend_now()
        flight_key = (id(backend), cache_key)
        hit = await _guarded(backend.get, cache_key, _MISSING)
        if hit is not _MISSING:
            return hit
        while (flight := flights.get(flight_key)) is not None:
            await flight.done.wait()
            if flight.finished:
                return flight.outcome()
        flight = flights[flight_key] = _Flight(anyio.Event())
        try:
            # A flight may have landed (stored its value and left) between our miss and
            # our lead: read again rather than compute twice.
            value = await _guarded(backend.get, cache_key, _MISSING)
            computed = value is _MISSING
            if computed:
                value = await func(*args, **kwargs)
        except Exception as exc:
            flight.reject(exc)
            raise
        else:
            flight.resolve(value)
            if computed:
                await _guarded(backend.set, cache_key, value, ttl)
            return value
        finally:
            del flights[flight_key]
            flight.done.set()

    return cached


def _sync_cached(
    func: Callable[..., Any], backend_now: Backend, ttl: float | None, key_for: KeyBuilder
) -> Callable[..., Any]:
    flights: dict[tuple[int, str], _Flight] = {}  # one flight per backend and key
    flights_lock = threading.Lock()

    def cached(*args: Any, **kwargs: Any) -> Any:
        cache_key = key_for(args, kwargs)
        backend = backend_now()
        flight_key = (id(backend), cache_key)
        hit = _run_from_sync(_guarded, backend.get, cache_key, _MISSING)
        if hit is not _MISSING:
            return hit
        # The event loop thread must never block on another thread's flight: that thread
        # may need the loop to reach the backend. There, compute without joining.
        may_wait = not _event_loop_running_here()
        while True:
            with flights_lock:
                flight = flights.get(flight_key)
                if flight is None or not may_wait:
                    flight = _Flight(threading.Event())
                    flights.setdefault(flight_key, flight)
                    break
            flight.done.wait()
            if flight.finished:
                return flight.outcome()
        try:
            # As in the async twin: a flight that landed since our miss has stored its value.
            value = _run_from_sync(_guarded, backend.get, cache_key, _MISSING)
            computed = value is _MISSING
            if computed:
                value = func(*args, **kwargs)
        except Exception as exc:
            flight.reject(exc)
            raise
        else:
            flight.resolve(value)
            if computed:
                _run_from_sync(_guarded, backend.set, cache_key, value, ttl)
            return value
        finally:
            with flights_lock:
                if flights.get(flight_key) is flight:
                    del flights[flight_key]
            flight.done.set()

    return cached


async def _guarded(operation: Callable[..., Any], *args: Any) -> Any:
    """Run one backend operation; if the backend fails, log it and behave as a miss."""
    try:
        return await operation(*args)
    except Exception:
        _log_backend_failure(operation.__name__, args[0])
        return _MISSING


def _log_backend_failure(operation: str, key: str) -> None:
    logger.warning("cache_backend_failed", operation=operation, key=key, exc_info=True)


def _run_from_sync(function: Callable[..., Any], *args: Any) -> Any:
    """Run a coroutine function to completion from synchronous code.

    From an AnyIO worker thread (a sync handler run in the threadpool) it runs on the
    app's event loop. Anywhere else (a script, the event loop's own thread) it is driven
    directly, which works for backends that never wait (InMemoryCache); for the others
    it tells the user what to change.
    """
    try:
        return anyio.from_thread.run(function, *args)
    except anyio.NoEventLoopError:
        pass
    coroutine = function(*args)
    try:
        coroutine.send(None)
    except StopIteration as finished:
        return finished.value
    coroutine.close()
    raise RuntimeError(
        "a sync function decorated with @cache was called outside a worker thread and its "
        "backend needs an event loop: make the function async, or call it in a worker "
        "thread (anyio.to_thread.run_sync)"
    )


def _event_loop_running_here() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True
