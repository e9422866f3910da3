"""Handler decorators (``@get``, ``@post``, ..., ``@websocket``) and the objects they make.

A decorator returns a ``RouteHandler``: the function (still callable as before) plus what the
route declared. Mounting it (``Ravyn(routes=[...])``, ``add_route``, ``Gateway``, ``Include``)
compiles, once, an ``HandlerEndpoint``: the ASGI callable Lilya's router dispatches to, with
the binding plan for that mount's path and dependencies.
"""

from __future__ import annotations

import functools
import inspect
import sys
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import anyio.to_thread
from lilya.exceptions import HTTPException as LilyaHTTPException
from lilya.responses import Response
from lilya.websockets import WebSocket, WebSocketDisconnect

from ravyn.events.context import current_bus
from ravyn.events.decorators import ObservableSpec, observable_spec
from ravyn.exceptions import ImproperlyConfigured
from ravyn.middleware.errors import close_failed_websocket, refuse_websocket
from ravyn.requests import Request
from ravyn.routing.binding import BindingPlan
from ravyn.routing.dependencies import Inject
from ravyn.routing.encoding import JSON, ResponseSpec
from ravyn.routing.guards import declared_guards
from ravyn.routing.route_settings import DEFAULT_ROUTE_SETTINGS, RouteSettings

DEFAULT_STATUS = {"POST": 201, "DELETE": 204}


class RouteHandler:
    """A function declared as an HTTP route. Calling it calls the function."""

    def __init__(
        self,
        func: Callable[..., Any],
        path: str,
        methods: Sequence[str],
        *,
        status_code: int | None = None,
        dependencies: Mapping[str, Inject] | None = None,
        response_class: type[Response] | None = None,
        media_type: str = JSON,
        name: str | None = None,
        tags: Sequence[str] = (),
        summary: str | None = None,
        description: str | None = None,
        include_in_schema: bool = True,
        deprecated: bool = False,
        operation_id: str | None = None,
    ) -> None:
        if not path.startswith("/"):
            raise ImproperlyConfigured(f"Route path {path!r} must start with '/'.")
        self.observable: ObservableSpec | None = observable_spec(func)
        guards = declared_guards(func)  # read before unwrapping: the marks may be outside
        if self.observable is not None:
            func = self.observable.func  # the route emits its events itself
        if not callable(func):
            raise ImproperlyConfigured(f"A route handler must be a function, got {func!r}.")
        functools.update_wrapper(self, func)
        self.handler = func
        self.path = path
        self.methods = tuple(method.upper() for method in methods)
        self.dependencies = {**guards, **(dependencies or {})}
        single = self.methods[0] if len(self.methods) == 1 else ""
        self.status_code = status_code or DEFAULT_STATUS.get(single, 200)
        self.response = ResponseSpec(self.status_code, media_type, response_class)
        self.name = name or func.__name__
        self.tags = list(tags)
        self.summary = summary
        self.description = description or inspect.getdoc(func)
        self.include_in_schema = include_in_schema
        self.deprecated = deprecated
        self.operation_id = operation_id
        self.is_async = inspect.iscoroutinefunction(func)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.handler(*args, **kwargs)

    def __ravyn_attach_observable__(self, spec: ObservableSpec) -> None:
        """``@observable(send=...)`` written above the route decorator lands here."""
        self.observable = spec

    def __repr__(self) -> str:
        return f"RouteHandler({'/'.join(self.methods)} {self.path} -> {self.handler.__qualname__})"


def mounted_plan(
    route: RouteHandler | WebSocketHandler,
    path: str,
    methods: frozenset[str],
    inherited: Mapping[str, Inject],
    settings: RouteSettings,
    *,
    websocket: bool = False,
) -> BindingPlan:
    """A route's binding plan at its mount: app/include/gateway dependencies under its own;
    those no parameter takes run as guards."""
    dependencies = {**inherited, **route.dependencies}
    return BindingPlan(
        route.handler, path, methods, dependencies, websocket=websocket, settings=settings
    )


def declared_route(name: str) -> RouteHandler | WebSocketHandler | None:
    """The route handler that a catalogue name names, if the name is one: a module-level
    function (``module:function``) or a method of a class defined at module level
    (``module:UserApi.create``, a Controller's). A sender may be any function: only a route
    can be left unserved."""
    module_name, _, qualname = name.partition(":")
    candidate: Any = sys.modules.get(module_name)
    for part in qualname.split("."):
        candidate = vars(candidate).get(part) if hasattr(candidate, "__dict__") else None
    return candidate if isinstance(candidate, RouteHandler | WebSocketHandler) else None


class HandlerEndpoint:
    """The ASGI callable of one mounted route: bind, call, respond, emit, clean up."""

    __slots__ = ("route", "plan", "path", "settings")

    def __init__(self, route: RouteHandler, path: str) -> None:
        self.route = route
        self.path = path
        self.plan: BindingPlan | None = None  # compiled when the app knows the whole tree
        self.settings = DEFAULT_ROUTE_SETTINGS

    def compile(
        self,
        path: str,
        inherited: Mapping[str, Inject],
        settings: RouteSettings = DEFAULT_ROUTE_SETTINGS,
    ) -> None:
        """Recompile for the final mount: full path, app/include dependencies, and the
        app's settings."""
        self.path = path
        self.settings = settings
        methods = frozenset(self.route.methods)
        self.plan = mounted_plan(self.route, path, methods, inherited, settings)

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        plan = self.plan
        if plan is None:  # mounted outside a Ravyn app: only the route's own dependencies
            self.compile(self.path, {})
            plan = self.plan
        route = self.route
        request = Request(scope, receive, send) if plan.needs_request else None
        kwargs, request_scope, tasks = await plan.bind(scope, receive, request)
        failure = None
        try:
            if route.is_async:
                result = await route.handler(**kwargs)
            else:
                result = await anyio.to_thread.run_sync(functools.partial(route.handler, **kwargs))
            spec = route.observable
            # A before-response cleanup (a transaction's commit) takes the route's events
            # in (a transactional outbox), so they are emitted before it.
            commits = request_scope is not None and request_scope.closes_before_response
            if spec is None or not spec.send:
                if commits:
                    await request_scope.close_before_response()
                await route.response.send(result, scope, receive, send, tasks)
                return
            source = f"{scope['method']} {self.path}"
            wait = spec.wait
            if wait is None:
                wait = self.settings.wait_for_listeners
            if wait or commits:
                await current_bus().emit_many(spec.send, result, wait=wait, source=source)
                if commits:
                    await request_scope.close_before_response()
                await route.response.send(result, scope, receive, send, tasks)
            else:
                await route.response.send(result, scope, receive, send, tasks)
                await current_bus().emit_many(spec.send, result, defer=True, source=source)
        except BaseException as exc:
            failure = exc
            raise
        finally:
            if request_scope is not None:
                await request_scope.close(failure)


class WebSocketHandler:
    """A function declared as a WebSocket route. Calling it calls the function."""

    def __init__(
        self,
        func: Callable[..., Any],
        path: str,
        *,
        dependencies: Mapping[str, Inject] | None = None,
        name: str | None = None,
    ) -> None:
        if not inspect.iscoroutinefunction(func):
            raise ImproperlyConfigured(f"WebSocket handler {func.__qualname__} must be async def.")
        functools.update_wrapper(self, func)
        self.handler = func
        self.path = path
        self.dependencies = {**declared_guards(func), **(dependencies or {})}
        self.name = name or func.__name__

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.handler(*args, **kwargs)


class WebSocketEndpoint:
    """The ASGI callable of one mounted WebSocket route."""

    __slots__ = ("route", "plan", "path")

    def __init__(self, route: WebSocketHandler, path: str) -> None:
        self.route = route
        self.compile(path, {})  # usable as is; a Ravyn app recompiles it for its mount

    def compile(
        self,
        path: str,
        inherited: Mapping[str, Inject],
        settings: RouteSettings = DEFAULT_ROUTE_SETTINGS,
    ) -> None:
        """Recompile for the final mount: full path, app/include dependencies, and the
        app's settings."""
        self.path = path
        self.plan = mounted_plan(self.route, path, frozenset(), inherited, settings, websocket=True)

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        websocket = WebSocket(scope, receive, send)
        request_scope = None
        failure = None
        try:
            kwargs, request_scope, _ = await self.plan.bind(scope, receive, websocket)
            await self.route.handler(**kwargs)
        except WebSocketDisconnect:
            pass  # the client left: the normal end of a conversation, not an error
        except LilyaHTTPException as exc:  # a guard or a parameter refused the connection
            failure = exc
            await refuse_websocket(websocket, exc)
        except Exception as exc:  # Lilya's WebSocketPath would swallow it unlogged
            failure = exc
            await close_failed_websocket(websocket, exc)
        finally:
            if request_scope is not None:
                await request_scope.close(failure)


def route(
    path: str = "/", methods: Sequence[str] = ("GET",), **options: Any
) -> Callable[[Callable[..., Any]], RouteHandler]:
    """Declare ``func`` as the handler of ``path`` for ``methods``; ``options`` are those of
    ``RouteHandler`` (status_code, dependencies, response_class, media_type, name, tags,
    summary, description, include_in_schema, deprecated, operation_id)."""

    def decorate(func: Callable[..., Any]) -> RouteHandler:
        return RouteHandler(func, path, methods, **options)

    return decorate


def _method_decorator(method: str) -> Callable[..., Callable[[Callable[..., Any]], RouteHandler]]:
    def decorator(path: str = "/", **options: Any) -> Callable[[Callable[..., Any]], RouteHandler]:
        return route(path, (method,), **options)

    decorator.__name__ = decorator.__qualname__ = method.lower()
    decorator.__doc__ = (
        f"Declare a {method} handler: ``@{method.lower()}(path, status_code=..., "
        "dependencies=..., response_class=..., media_type=..., tags=..., summary=..., "
        "description=..., include_in_schema=..., deprecated=..., operation_id=...)``."
    )
    return decorator


get = _method_decorator("GET")
post = _method_decorator("POST")
put = _method_decorator("PUT")
patch = _method_decorator("PATCH")
delete = _method_decorator("DELETE")
head = _method_decorator("HEAD")
options = _method_decorator("OPTIONS")


def websocket(
    path: str = "/",
    *,
    dependencies: Mapping[str, Inject] | None = None,
    name: str | None = None,
) -> Callable[[Callable[..., Any]], WebSocketHandler]:
    """Declare ``func`` (``async def``, taking a ``WebSocket``) as the handler of ``path``."""

    def decorate(func: Callable[..., Any]) -> WebSocketHandler:
        return WebSocketHandler(func, path, dependencies=dependencies, name=name)

    return decorate
