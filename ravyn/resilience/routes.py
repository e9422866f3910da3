"""Route decorators: each pattern around one handler, written under ``@get``/``@post``::

    @get("/critical")
    @timeout_route(5.0)
    @circuit_breaker_route(cb)
    @bulkhead_route(bh)
    @rate_limit_route(limiter, "10/s")
    async def critical_operation() -> dict: ...

Each returns an ``async`` function showing the handler's own signature, so ravyn binds
the handler's parameters as before, and they stack in any order. A sync handler runs in a
worker thread, as a plain route would. Refusals raise ``Refused`` (its status and
``Retry-After`` reach the client); a timeout raises ``TimedOut`` (504).
"""

from __future__ import annotations

import asyncio
import functools
import inspect
from collections.abc import Awaitable, Callable
from typing import Any

import anyio.to_thread
import structlog
from lilya.requests import Request
from lilya.responses import Response

from ravyn.events.retry import RetryPolicy
from ravyn.openapi.responses import RESPONSES_ATTRIBUTE, DeclaredResponse
from ravyn.resilience.policy import (
    MUST_WAIT,
    Policy,
    Refused,
    TimedOut,
    count_refusal,
    is_failure,
    is_retryable,
)
from ravyn.resilience.rate_limiter import RateLimiter
from ravyn.resilience.responses import (
    BULKHEAD_FULL,
    CIRCUIT_OPEN,
    TIMED_OUT,
    TOO_MANY_REQUESTS,
)
from ravyn.resilience.timeout import Deadlines

logger = structlog.get_logger("ravyn.resilience")

Handler = Callable[..., Any]
KeyFunction = Callable[[Request], str]
REQUEST_PARAMETER = "_resilience_request"
"""The keyword ``rate_limit_route`` adds to the signature ravyn sees, to be handed the
request (its client is the key); the handler is called without it."""


def retry_route(policy: RetryPolicy) -> Callable[[Handler], Handler]:
    """Call the handler again after an error or a 5xx (never a 4xx), per ``policy``."""

    def decorate(func: Handler) -> Handler:
        call = _awaitable(func)

        async def retrying(*args: Any, **kwargs: Any) -> Any:
            attempt = 1
            while True:
                try:
                    result = await call(*args, **kwargs)
                    if attempt >= policy.max_attempts or not _is_error_response(result):
                        return result
                except Exception as exc:
                    if attempt >= policy.max_attempts or not is_retryable(exc):
                        raise
                await asyncio.sleep(policy.delay(attempt))
                attempt += 1

        return _showing_signature_of(func, retrying)

    return decorate


def timeout_route(seconds: float) -> Callable[[Handler], Handler]:
    """Cancel the handler after ``seconds``: the client gets a 504."""
    deadlines = Deadlines(seconds)

    def decorate(func: Handler) -> Handler:
        call = _awaitable(func)

        async def timed(*args: Any, **kwargs: Any) -> Any:
            deadline = deadlines.start()
            try:
                result = await call(*args, **kwargs)
            except asyncio.CancelledError:
                if deadlines.finish(deadline):
                    raise TimedOut(seconds) from None
                raise
            except BaseException:
                deadlines.finish(deadline)
                raise
            deadlines.finish(deadline)
            return result

        return _declaring(TIMED_OUT, _showing_signature_of(func, timed))

    return decorate


def with_fallback_route(fallback: Any) -> Callable[[Handler], Handler]:
    """Answer ``fallback`` (a value, or a function of no arguments, sync or async, giving
    one) when the handler fails or a pattern inside refuses it; a 4xx the handler raises
    on purpose still reaches the client. The failure is logged."""

    def decorate(func: Handler) -> Handler:
        call = _awaitable(func)
        name = func.__qualname__

        async def falling_back(*args: Any, **kwargs: Any) -> Any:
            try:
                result = await call(*args, **kwargs)
                if not _is_error_response(result):
                    return result
                logger.warning("fallback_served", handler=name, status=result.status_code)
            except Exception as exc:
                if not (isinstance(exc, Refused) or is_retryable(exc)):
                    raise
                logger.warning("fallback_served", handler=name, exc_info=exc)
            if not callable(fallback):
                return fallback
            value = fallback()
            return await value if inspect.isawaitable(value) else value

        return _showing_signature_of(func, falling_back)

    return decorate


def circuit_breaker_route(circuit_breaker: Policy) -> Callable[[Handler], Handler]:
    """Refuse (503) while the circuit is open; the handler's errors and 5xx count."""
    return _guard(circuit_breaker, CIRCUIT_OPEN)


def bulkhead_route(bulkhead: Policy) -> Callable[[Handler], Handler]:
    """At most the bulkhead's ``max_concurrent`` calls of the handler at once (503 beyond
    those allowed to wait)."""
    return _guard(bulkhead, BULKHEAD_FULL)


def rate_limit_route(
    limiter: RateLimiter, rate: str, *, key: KeyFunction | None = None
) -> Callable[[Handler], Handler]:
    """At most ``rate`` calls per client (429 beyond). The client is its address, or what
    ``key(request)`` returns (an API key header, a user id)."""
    return _guard(limiter.limit(rate), TOO_MANY_REQUESTS, key or client_address)


def client_address(request: Request) -> str:
    """The default rate-limit key: the client's IP address."""
    client = request.scope.get("client")
    return client[0] if client else "unknown"


def _guard(
    policy: Policy, refusal: DeclaredResponse, key: KeyFunction | None = None
) -> Callable[[Handler], Handler]:
    """A decorator admitting each call through ``policy`` and telling it the outcome;
    ``refusal`` is the response it answers with, listed in the OpenAPI document."""

    def decorate(func: Handler) -> Handler:
        call = _awaitable(func)
        passes_request = key is not None and REQUEST_PARAMETER in _parameters(func)

        async def guarded(*args: Any, **kwargs: Any) -> Any:
            request_key = ""
            if key is not None:
                if passes_request:  # a pattern further in needs it too
                    request = kwargs.get(REQUEST_PARAMETER)
                else:
                    request = kwargs.pop(REQUEST_PARAMETER, None)
                request_key = key(request) if request is not None else ""
            try:
                ticket = policy.admit_now(request_key)
                if ticket is MUST_WAIT:
                    ticket = await policy.admit(request_key)
            except Refused as refused:
                count_refusal(refused)
                raise
            failed: bool | None = True
            try:
                result = await call(*args, **kwargs)
                failed = _is_error_response(result)
                return result
            except Exception as exc:
                failed = is_failure(exc)
                raise
            finally:  # a cancellation (an outer timeout) counts as a failure
                policy.release(ticket, failed)

        wrapper = _declaring(refusal, _showing_signature_of(func, guarded))
        if key is not None and not passes_request:
            _ask_for_request(wrapper)
        return wrapper

    return decorate


def _awaitable(func: Handler) -> Callable[..., Awaitable[Any]]:
    if inspect.iscoroutinefunction(func):
        return func

    async def in_thread(*args: Any, **kwargs: Any) -> Any:
        return await anyio.to_thread.run_sync(functools.partial(func, *args, **kwargs))

    return in_thread


def _showing_signature_of(func: Handler, wrapper: Handler) -> Handler:
    """``wrapper`` named and typed as ``func`` (``__wrapped__`` leads signature readers
    to it). The handler's attributes are not copied: an ``@observable`` spec below stays
    with the function that emits."""
    return functools.wraps(func, updated=())(wrapper)


def _declaring(response: DeclaredResponse, wrapper: Handler) -> Handler:
    """``wrapper`` telling the OpenAPI document it may answer ``response``."""
    setattr(wrapper, RESPONSES_ATTRIBUTE, response)
    return wrapper


def _parameters(func: Handler) -> dict[str, inspect.Parameter]:
    return dict(inspect.signature(func).parameters)


def _ask_for_request(wrapper: Handler) -> None:
    """Add the keyword-only ``Request`` parameter to the signature ravyn binds."""
    signature = inspect.signature(wrapper)
    parameter = inspect.Parameter(
        REQUEST_PARAMETER, inspect.Parameter.KEYWORD_ONLY, default=None, annotation=Request
    )
    wrapper.__signature__ = signature.replace(
        parameters=[*signature.parameters.values(), parameter]
    )
    wrapper.__annotations__ = {**wrapper.__annotations__, REQUEST_PARAMETER: Request}


def _is_error_response(result: Any) -> bool:
    """A handler may also fail by returning a 5xx response."""
    return isinstance(result, Response) and result.status_code >= 500
