"""``Controller``: a class whose ``@get``/``@post``/... methods are routes under one path.

The class declares what its routes share: ``path``, ``dependencies`` (guards among them),
``middleware``, ``tags``, ``include_in_schema``, and ``@before_request`` / ``@after_request``
hooks. Mounting the class (``routes=[UserApi]``, ``Include(routes=[UserApi])``,
``app.add_route(UserApi)``) makes one instance and serves each method, bound to it, as an
ordinary route named ``UserApi.method``: a method binds its parameters exactly like a
function handler and costs the same per request.
"""

from __future__ import annotations

import copy
import inspect
from collections.abc import Callable, Mapping, Sequence
from typing import Any, ClassVar, TypeVar

from lilya.responses import Response

from ravyn.exceptions import ImproperlyConfigured
from ravyn.requests import Request
from ravyn.routing.dependencies import Inject
from ravyn.routing.encoding import ResponseSpec
from ravyn.routing.handlers import RouteHandler, WebSocketHandler

F = TypeVar("F", bound=Callable[..., Any])

HOOK_ATTRIBUTE = "__ravyn_hook__"


def before_request(method: F) -> F:
    """Run this controller method before each of the controller's handlers (after the
    class's guards). It binds like a dependency (``request``, dependencies by name) and may
    refuse the request by raising, or fill ``request.state``."""
    setattr(method, HOOK_ATTRIBUTE, "before_request")
    return method


def after_request(method: F) -> F:
    """Run this controller method after each of the controller's HTTP handlers returned,
    before the response is sent. It takes ``response`` (a ``Response`` built from what the
    handler returned, to change in place) and optionally ``request``; returning another
    ``Response`` replaces it. Not run when the handler raised."""
    setattr(method, HOOK_ATTRIBUTE, "after_request")
    return method


class Controller:
    """Subclass, set ``path`` and decorate methods with ``@get``/``@post``/...::

        class UserApi(Controller):
            path = "/api/v1/users"
            tags = ["users"]

            @get("/{user_id}")
            async def get_user(self, user_id: int) -> dict: ...

    Guards decorate the class (``@auth.login_required``) or go in ``dependencies``.
    The class is instantiated once per mount, without arguments.
    """

    path: ClassVar[str] = "/"
    dependencies: ClassVar[Mapping[str, Inject]] = {}
    middleware: ClassVar[Sequence[Any]] = ()
    tags: ClassVar[Sequence[str]] = ()
    include_in_schema: ClassVar[bool] = True

    @classmethod
    def route_handlers(cls) -> list[RouteHandler | WebSocketHandler]:
        """The class's handlers bound to a new instance, in the order they are defined
        (a subclass's override keeps the place of the method it replaces)."""
        if not cls.path.startswith("/"):
            raise ImproperlyConfigured(f"{cls.__qualname__}.path {cls.path!r} must start with '/'.")
        members = _members(cls)
        instance = cls()
        before = {
            f"before_request:{cls.__qualname__}.{name}": Inject(getattr(instance, name))
            for name, member in members.items()
            if getattr(member, HOOK_ATTRIBUTE, None) == "before_request"
        }
        after = [
            AfterRequestHook(getattr(instance, name))
            for name, member in members.items()
            if getattr(member, HOOK_ATTRIBUTE, None) == "after_request"
        ]
        handlers = [
            _bound(member, instance, {**cls.dependencies, **before}, after)
            for member in members.values()
            if isinstance(member, (RouteHandler, WebSocketHandler))
        ]
        if not handlers:
            raise ImproperlyConfigured(
                f"Controller {cls.__qualname__} has no route: decorate its methods with "
                "@get/@post/... (or @websocket)."
            )
        return handlers


def is_controller(obj: Any) -> bool:
    return isinstance(obj, type) and issubclass(obj, Controller)


def _members(cls: type[Controller]) -> dict[str, Any]:
    members: dict[str, Any] = {}
    for klass in reversed(cls.__mro__):
        members.update(vars(klass))
    return members


def _bound(
    route: RouteHandler | WebSocketHandler,
    instance: Controller,
    shared: Mapping[str, Inject],
    after: list[AfterRequestHook],
) -> RouteHandler | WebSocketHandler:
    """A copy of ``route`` calling the method on ``instance``, with the class's share."""
    controller = type(instance)
    parameters = list(inspect.signature(route.handler).parameters)
    if not parameters or parameters[0] != "self":
        raise ImproperlyConfigured(
            f"{route.handler.__qualname__} is a route of controller {controller.__qualname__}: "
            "its first parameter must be self."
        )
    bound = copy.copy(route)
    bound.handler = route.handler.__get__(instance, controller)
    bound.name = f"{controller.__name__}.{route.name}"
    bound.dependencies = {**shared, **route.dependencies}  # the method's own win
    if isinstance(bound, RouteHandler):
        bound.tags = list(dict.fromkeys([*controller.tags, *bound.tags]))
        bound.include_in_schema = controller.include_in_schema and bound.include_in_schema
        if after:
            bound.response = AfterRequestResponse(bound.response, after)
    return bound


class AfterRequestHook:
    """An ``@after_request`` method, its parameters (``request``, ``response``) planned once."""

    __slots__ = ("method", "arguments", "is_async")

    def __init__(self, method: Callable[..., Any]) -> None:
        self.method = method
        self.is_async = inspect.iscoroutinefunction(method)
        self.arguments: list[tuple[str, str]] = []
        for name, parameter in inspect.signature(method).parameters.items():
            annotation = parameter.annotation
            if name == "response" or (
                isinstance(annotation, type) and issubclass(annotation, Response)
            ):
                self.arguments.append((name, "response"))
            elif name == "request" or (
                isinstance(annotation, type) and issubclass(annotation, Request)
            ):
                self.arguments.append((name, "request"))
            else:
                raise ImproperlyConfigured(
                    f"@after_request {method.__qualname__} takes {name!r}: it may take only "
                    "request and response."
                )

    async def __call__(self, request: Request, response: Response) -> Response:
        values = {"request": request, "response": response}
        result = self.method(**{name: values[source] for name, source in self.arguments})
        if self.is_async:
            result = await result
        return response if result is None else result


class AfterRequestResponse(ResponseSpec):
    """A route's response spec that builds the ``Response`` and runs the hooks on it
    before sending (the handler's return value stays the payload of its events)."""

    __slots__ = ("hooks",)

    def __init__(self, spec: ResponseSpec, hooks: list[AfterRequestHook]) -> None:
        super().__init__(spec.status_code, spec.media_type, spec.response_class)
        self.hooks = hooks

    async def send(
        self, result: Any, scope: dict[str, Any], receive: Any, send: Any, tasks: Any
    ) -> None:
        response = self.to_response(result, tasks)
        request = Request(scope, receive, send)
        for hook in self.hooks:
            response = await hook(request, response)
        await response(scope, receive, send)
