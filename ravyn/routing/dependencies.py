"""``Inject(callable)``: a value computed per request and handed to handlers (and to other
dependencies) by parameter name.

Each dependency's own parameters are planned once, when the route is built. Per request,
a dependency runs at most once (``use_cache=True``) however many consumers it has; a
generator dependency yields its value and its cleanup runs after the response is sent; if
the request failed, the exception is raised at its ``yield`` (to roll back a transaction).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from contextlib import AsyncExitStack, asynccontextmanager, contextmanager
from typing import Any

from lilya.requests import Connection, Request

from ravyn.exceptions import ImproperlyConfigured


class Inject:
    """Declare a dependency: ``dependencies={"db": Inject(get_database)}`` or ``db=Inject(...)``.

    ``callable_`` may be sync or async, a function or a generator (code after ``yield`` is
    cleanup run after the response). Its parameters receive ``request`` (by annotation
    ``Request`` or by that name; ``websocket``/``WebSocket`` on a WebSocket route: the same
    connection) and other dependencies by name. Sync callables run on the
    event loop: keep them quick, or make them async.

    ``before_response=True``: the generator's cleanup runs before the response is sent,
    after the route's events are emitted, instead of after the response. For a transaction
    that must commit for the request to succeed: a failed commit answers 500, never a
    success already sent.
    """

    __slots__ = ("callable", "use_cache", "before_response")

    def __init__(
        self,
        callable_: Callable[..., Any],
        *,
        use_cache: bool = True,
        before_response: bool = False,
    ) -> None:
        if not callable(callable_):
            raise ImproperlyConfigured(f"Inject() needs a callable, got {callable_!r}.")
        self.callable = callable_
        self.use_cache = use_cache
        self.before_response = before_response

    def __repr__(self) -> str:
        return f"Inject({getattr(self.callable, '__qualname__', self.callable)!r})"


class RequestScope:
    """What one request's dependency resolution shares: the request, the cache, cleanups
    (those to run before the response, and the others)."""

    __slots__ = ("request", "cache", "exit_stack", "early_exit_stack")

    def __init__(self, request: Request) -> None:
        self.request = request
        self.cache: dict[int, Any] = {}
        self.exit_stack: AsyncExitStack | None = None
        self.early_exit_stack: AsyncExitStack | None = None

    def cleanups(self, before_response: bool = False) -> AsyncExitStack:
        if before_response:
            if self.early_exit_stack is None:
                self.early_exit_stack = AsyncExitStack()
            return self.early_exit_stack
        if self.exit_stack is None:
            self.exit_stack = AsyncExitStack()
        return self.exit_stack

    @property
    def closes_before_response(self) -> bool:
        """Some cleanup must run before the response (``Inject(before_response=True)``)."""
        return self.early_exit_stack is not None

    async def close_before_response(self) -> None:
        """Run the ``before_response`` cleanups of a request that succeeded so far; one
        that raises (a failed commit) fails the request."""
        stack, self.early_exit_stack = self.early_exit_stack, None
        if stack is not None:
            await stack.aclose()

    async def close(self, exc: BaseException | None) -> None:
        """Run the generator dependencies' cleanups, latest first. ``exc`` (what ended the
        request, if it failed) is raised at their ``yield``, so ``except`` can roll back."""
        for stack in (self.early_exit_stack, self.exit_stack):
            if stack is None:
                continue
            if exc is None:
                await stack.aclose()
            else:
                await stack.__aexit__(type(exc), exc, exc.__traceback__)
        self.early_exit_stack = self.exit_stack = None


class DependencyPlan:
    """How to compute one dependency: its callable and how each of its parameters binds."""

    __slots__ = ("inject", "kind", "arguments", "context")

    def __init__(self, inject: Inject, available: Mapping[str, Inject], trail: tuple = ()) -> None:
        func = inject.callable
        if inject in trail:
            names = " -> ".join(_name(i.callable) for i in (*trail, inject))
            raise ImproperlyConfigured(f"Dependency cycle: {names}.")
        self.inject = inject
        self.kind = _kind(func)
        # a generator runs as a context manager: its cleanup sees the request's exception
        self.context: Any = None
        if self.kind == "asyncgen":
            self.context = asynccontextmanager(func)
        elif self.kind == "gen":
            self.context = contextmanager(func)
        self.arguments: list[tuple[str, DependencyPlan | None]] = []
        for name, parameter in inspect.signature(func).parameters.items():
            if isinstance(parameter.default, Inject):
                self.arguments.append((name, DependencyPlan(parameter.default, available, trail)))
            elif name in available:
                plan = DependencyPlan(available[name], available, (*trail, inject))
                self.arguments.append((name, plan))
            elif name in ("request", "websocket") or _is_connection(parameter.annotation):
                self.arguments.append((name, None))
            elif parameter.default is inspect.Parameter.empty:
                raise ImproperlyConfigured(
                    f"Dependency {_name(func)} takes {name!r}, which is neither a dependency "
                    "nor the request: declare it in dependencies= or give it a default."
                )

    async def resolve(self, scope: RequestScope) -> Any:
        inject = self.inject
        key = id(inject)
        if inject.use_cache and key in scope.cache:
            return scope.cache[key]
        kwargs = {
            name: scope.request if plan is None else await plan.resolve(scope)
            for name, plan in self.arguments
        }
        func = inject.callable
        kind = self.kind
        if kind == "async":
            value = await func(**kwargs)
        elif kind == "sync":
            value = func(**kwargs)
        elif kind == "asyncgen":
            cleanups = scope.cleanups(inject.before_response)
            value = await cleanups.enter_async_context(self.context(**kwargs))
        else:
            value = scope.cleanups(inject.before_response).enter_context(self.context(**kwargs))
        if inject.use_cache:
            scope.cache[key] = value
        return value


def _kind(func: Callable[..., Any]) -> str:
    if inspect.isasyncgenfunction(func):
        return "asyncgen"
    if inspect.isgeneratorfunction(func):
        return "gen"
    if inspect.iscoroutinefunction(func) or inspect.iscoroutinefunction(
        getattr(func, "__call__", None)  # noqa: B004 - an object with an async __call__
    ):
        return "async"
    return "sync"


def _is_connection(annotation: Any) -> bool:
    """``Request`` or ``WebSocket``: a dependency receives the connection being served."""
    return isinstance(annotation, type) and issubclass(annotation, Connection)


def _name(func: Callable[..., Any]) -> str:
    return getattr(func, "__qualname__", repr(func))
