"""``Ravyn``: a Lilya router, a middleware stack and the event bus, wired in one lifespan.

Ravyn composes Lilya's ``Router`` rather than subclassing ``Lilya``: the request path is
request context (which also maps what the user's middleware raises) -> user middleware ->
exception mapping -> router -> compiled endpoint, with nothing else per request. The
lifespan starts, in order, the event bus, the user's startup code and the scheduler, and
stops them in reverse order, so listeners still run while the user's shutdown code runs
and in-flight listener work is drained, not lost.

Why one module of ~480 lines: it is where the parts meet (the constructor's options, the
lifespan, the request entry point, the catalogue at start); each part it wires (routing,
the bus, the scheduler, the documents, logging) lives in its own package.
"""

from __future__ import annotations

import functools
import importlib
import inspect
import os
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager
from types import ModuleType
from typing import Any

import structlog
from lilya.datastructures import State
from lilya.routing import NoMatchFound, Router
from lilya.staticfiles import StaticFiles

from ravyn.connection_abort import remember_server_send
from ravyn.contrib.schedulers.asyncz.runner import AppScheduler
from ravyn.core.caches.base import CacheBackend
from ravyn.events.bus import EventBus
from ravyn.events.context import bus_context
from ravyn.events.decorators import attach
from ravyn.events.envelope import Event
from ravyn.events.listener import Listener, use_sync_listener_threads
from ravyn.events.registry import Registry, active_registry
from ravyn.events.transports.contract import TransportUnavailable
from ravyn.exceptions import ImproperlyConfigured
from ravyn.extensions import Extension
from ravyn.logging import Table, ensure_logging
from ravyn.loop_monitor import LoopStallMonitor
from ravyn.middleware.definitions import build_stack, normalize_middleware
from ravyn.middleware.errors import (
    ExceptionHandler,
    ExceptionMapping,
    ExceptionMiddleware,
    OnError,
    call_on_error,
    report_error,
)
from ravyn.middleware.request_context import RequestContextMiddleware
from ravyn.openapi.serving import documentation_routes
from ravyn.routing.dependencies import Inject
from ravyn.routing.fallbacks import TrailingSlashRedirect, allowed_methods
from ravyn.routing.gateways import (
    Include,
    finalize_routes,
    normalize_route,
    normalize_routes,
    served_handlers,
)
from ravyn.routing.handlers import RouteHandler, WebSocketHandler, declared_route
from ravyn.routing.route_settings import RouteSettings
from ravyn.settings import RavynSettings
from ravyn.shutdown import Shutdown
from ravyn.utils.redaction import redact_credentials

logger = structlog.get_logger("ravyn.app")

Lifespan = Callable[[Any], AbstractAsyncContextManager[Any]]

# A start that fails with one of these is the operator's to fix, and the message says how:
# it is logged as one line (the traceback at debug level).
CONFIGURATION_ERRORS = (TransportUnavailable, ImproperlyConfigured)


class Ravyn:
    """An ASGI application.

    Web: ``routes``, ``middleware``, ``dependencies`` (app-wide ``Inject``),
    ``exception_handlers`` (class or status code -> ``handler(request, exc)``), ``lifespan``
    or ``on_startup``/``on_shutdown``, ``extensions``, ``debug``, ``settings``.

    Documentation: ``title``, ``version``, ``description`` (of the OpenAPI document),
    ``openapi_url`` ("/openapi.json"), ``docs_url`` ("/docs", Swagger UI),
    ``asyncapi_url`` ("/asyncapi.json"), ``events_docs_url`` ("/docs/events"); None turns
    one off.

    Errors: ``on_error(exc, details)``, a plain function called with every error nothing
    handled (a 500, a failed WebSocket handler, lifespan or listener) after it is logged;
    ``details`` are the log line's fields. Hand them to a monitoring service there.

    ``app.shutdown`` is set when the server starts to shut down (a stop signal, a reload,
    the lifespan shutdown): a long-lived response ends when it is (``await
    app.shutdown.wait()``), as the event bridge's streams do.

    Events: ``observers`` (modules, module names or objects with listener methods, imported
    or attached before the bus is built), ``event_transport`` (None: in memory; a URL or a
    Transport), ``wait_for_listeners`` (default for routes that send events),
    ``max_in_flight``, ``grace_period``, ``enable_scheduler`` (``app.scheduler`` lists,
    adds, pauses, resumes, runs and removes jobs while the app runs), ``cache`` (the backend
    of ``@cache()`` without one in this app; by default an ``InMemoryCache`` of its own).

    Pages: ``static_dir`` served under ``static_url`` (default ``/static``, route name
    ``static``), ``templates_dir`` for Jinja2 templates (``ravyn.templating.render``).

    Arguments left at None take their value from ``settings`` (``RavynSettings.from_env()``
    when not given).
    """

    def __init__(
        self,
        routes: Sequence[Any] | None = None,
        *,
        middleware: Sequence[Any] | None = None,
        lifespan: Lifespan | None = None,
        on_startup: Sequence[Callable[[], Any]] | None = None,
        on_shutdown: Sequence[Callable[[], Any]] | None = None,
        dependencies: Mapping[str, Inject] | None = None,
        exception_handlers: Mapping[type[Exception] | int, ExceptionHandler] | None = None,
        extensions: Mapping[str, Extension | type[Extension]] | None = None,
        debug: bool | None = None,
        settings: RavynSettings | None = None,
        observers: Sequence[ModuleType | str | object] = (),
        event_transport: Any = None,
        wait_for_listeners: bool | None = None,
        max_in_flight: int | None = None,
        grace_period: float | None = None,
        enable_scheduler: bool | None = None,
        cache: CacheBackend | None = None,
        title: str = "Ravyn",
        version: str = "0.1.0",
        description: str | None = None,
        openapi_url: str | None = "/openapi.json",
        docs_url: str | None = "/docs",
        asyncapi_url: str | None = "/asyncapi.json",
        events_docs_url: str | None = "/docs/events",
        static_dir: str | os.PathLike[str] | None = None,
        static_url: str | None = None,
        templates_dir: str | os.PathLike[str] | None = None,
        on_error: OnError | None = None,
    ) -> None:
        if lifespan is not None and (on_startup or on_shutdown):
            raise ImproperlyConfigured(
                "Use either lifespan= or on_startup=/on_shutdown=, not both: move the "
                "startup and shutdown code into the lifespan context manager."
            )
        if on_error is not None and (
            inspect.iscoroutinefunction(on_error) or not callable(on_error)
        ):
            raise ImproperlyConfigured(
                f"on_error must be a plain function on_error(exc, details), got {on_error!r}: "
                "it runs where the error happened, so keep it quick and synchronous."
            )
        self.settings = settings if settings is not None else RavynSettings.from_env()
        ensure_logging(self.settings.log_json, self.settings.log_level)
        self.on_error = on_error
        self.debug = self.settings.debug if debug is None else debug
        # What the routes apply, handed to them when they are finalized (never per request).
        self.route_settings = RouteSettings(
            wait_for_listeners=_pick(wait_for_listeners, self.settings.wait_for_listeners),
            max_body_size=self.settings.max_body_size,
            max_form_parts=self.settings.max_form_parts,
            max_form_field_size=self.settings.max_form_field_size,
        )
        self.enable_scheduler = _pick(enable_scheduler, self.settings.enable_scheduler)
        self.state = State()
        self.shutdown = Shutdown()  # set when the server starts to shut down
        self.user_lifespan = lifespan
        self.on_startup = list(on_startup or ())
        self.on_shutdown = list(on_shutdown or ())
        self.dependencies = dict(dependencies or {})
        self.exception_handlers = dict(exception_handlers or {})
        self.user_middleware = normalize_middleware(middleware)
        self.events = self._make_bus(
            observers,
            _pick(event_transport, self.settings.event_transport),
            _pick(max_in_flight, self.settings.max_in_flight),
            _pick(grace_period, self.settings.grace_period),
        )
        self.events.registry.cache = cache  # None: an InMemoryCache of its own, on first use
        self.scheduler = AppScheduler(self.events)
        self.title, self.version, self.description = title, version, description
        self.openapi_url, self.docs_url = openapi_url, docs_url
        self.asyncapi_url, self.events_docs_url = asyncapi_url, events_docs_url
        if on_error is not None:
            self.events.taps.append(_ReportListenerFailures(on_error))
        self.router = Router(routes=normalize_routes(routes or ()), redirect_slashes=False)
        self.router.default = TrailingSlashRedirect(self.router)
        static_dir = _pick(static_dir, self.settings.static_dir)
        if static_dir is not None:
            static_url = _pick(static_url, self.settings.static_url)
            self.router.routes.append(static_files(static_url, static_dir))
        finalize_routes(self.router.routes, self.dependencies, "", self.route_settings)
        self.route_changes = 0  # grows with add_route: the documents are rebuilt once after
        self.router.routes.extend(documentation_routes(self))
        templates_dir = _pick(templates_dir, self.settings.templates_dir)
        self.templates = template_environment(templates_dir) if templates_dir else None
        self._stack: Any = None
        self.extension_lifespans: list[Lifespan] = []
        self.extensions: dict[str, Extension] = {}
        for name, extension in (extensions or {}).items():
            self.add_extension(name, extension)

    # -- building ------------------------------------------------------------------

    @property
    def wait_for_listeners(self) -> bool:
        """Whether routes that send events wait for local listeners (``route_settings``)."""
        return self.route_settings.wait_for_listeners

    @property
    def routes(self) -> list[Any]:
        return self.router.routes

    def add_route(self, handler: RouteHandler | Any, prefix: str = "") -> None:
        """Serve ``handler`` (it carries its path) or a ``Controller`` under an optional
        ``prefix``; also takes a ``Gateway``/``Include`` or any Lilya route."""
        routes = normalize_route(handler, prefix)
        finalize_routes(routes, self.dependencies, "", self.route_settings)
        self.router.routes.extend(routes)
        self.route_changes += 1

    def add_websocket_route(self, handler: WebSocketHandler, prefix: str = "") -> None:
        """Serve a ``@websocket`` handler under an optional ``prefix``."""
        if not isinstance(handler, WebSocketHandler):
            raise ImproperlyConfigured(f"{handler!r} is not decorated with @websocket(path).")
        self.add_route(handler, prefix)

    def url_for(self, name: str, /, **path_params: Any) -> str:
        """The path of the route named ``name`` with ``path_params`` filled in:
        ``app.url_for("get_user", user_id=7)``, ``app.url_for("UserApi.get_user", user_id=7)``
        (a controller method), ``app.url_for("static", path="site.css")``. Inside an
        ``Include(name="api")`` the name is ``"api:get_user"``."""
        try:
            return str(self.router.url_path_for(name, **path_params))
        except NoMatchFound as exc:
            given = ", ".join(path_params) or "none"
            exc.args = (
                f"No route named {name!r} takes exactly the path parameters ({given}): "
                "`ravyn routes module:app` lists the names and paths.",
            )
            raise

    def add_middleware(self, middleware: Any, **options: Any) -> None:
        """Add a middleware inside those already declared (before the app serves)."""
        self.user_middleware.extend(normalize_middleware([middleware, options]))
        self._stack = None

    def add_exception_handler(
        self, exc_class_or_status: type[Exception] | int, handler: ExceptionHandler
    ) -> None:
        self.exception_handlers[exc_class_or_status] = handler
        self._stack = None

    def add_extension(
        self, name: str, extension: Extension | type[Extension], **kwargs: Any
    ) -> None:
        """Register and run an extension now: ``extension.extend(self, **kwargs)``."""
        if inspect.isclass(extension):
            extension = extension()
        if not isinstance(extension, Extension):
            raise ImproperlyConfigured(
                f"Extension {name!r} must subclass ravyn.extensions.Extension, got {extension!r}."
            )
        self.extensions[name] = extension
        extension.extend(self, **kwargs)

    def add_lifespan(self, lifespan: Lifespan) -> None:
        """Run ``lifespan(app)`` (an async context manager, as ``lifespan=``) while the app
        runs, inside the bus and around the user's startup and shutdown: what an extension
        opens (a database engine) is ready for them, and closed after them."""
        self.extension_lifespans.append(lifespan)

    def _make_bus(
        self,
        observers: Sequence[ModuleType | str | object],
        transport: Any,
        max_in_flight: int,
        grace_period: float,
    ) -> EventBus:
        instances = []
        for observer in observers:
            if isinstance(observer, str):
                _import_observer(observer)
            elif not isinstance(observer, ModuleType):
                instances.append(observer)
        # The app's own registry: it sees what modules declared in the active one, while
        # what is registered on this app (observers, app.scheduler.add) stays its own.
        registry = Registry(parent=active_registry())
        for instance in instances:
            attach(instance, registry)
        if isinstance(transport, str):
            from ravyn.events.transports import transport_from_url

            options = {"secret": self.settings.event_secret} if self.settings.event_secret else {}
            transport = transport_from_url(transport, **options)
        return EventBus(
            registry, transport=transport, max_in_flight=max_in_flight, grace_period=grace_period
        )

    def _build_stack(self) -> Any:
        errors = ExceptionMapping(
            self.exception_handlers,
            self.debug,
            allowed_methods=functools.partial(allowed_methods, self.router.routes),
        )
        app: Any = ExceptionMiddleware(self.router.app, errors)
        if not self.user_middleware:
            self._stack = RequestContextMiddleware(app, debug=self.debug)
            return self._stack
        # the user's middleware inside the mapping once more, as in Starlette: what a
        # middleware raises meets the same exception_handlers as what a handler raises
        app = build_stack(app, self.user_middleware)
        self._stack = RequestContextMiddleware(app, debug=self.debug, errors=errors)
        return self._stack

    # -- serving -------------------------------------------------------------------

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        scope["app"] = self
        remember_server_send(scope, send)  # before middleware wraps it
        stack = self._stack or self._build_stack()
        with bus_context(self.events):
            await stack(scope, receive, send)

    async def _lifespan(self, receive: Any, send: Any) -> None:
        await receive()  # lifespan.startup
        started = False
        try:
            async with self.running():
                await send({"type": "lifespan.startup.complete"})
                started = True
                await receive()  # lifespan.shutdown
        except BaseException as exc:
            phase = "shutdown" if started else "startup"
            if isinstance(exc, CONFIGURATION_ERRORS) and not self.debug:  # the message says it
                logger.error(f"lifespan_{phase}_failed", error=f"{type(exc).__name__}: {exc}")
                logger.debug(f"lifespan_{phase}_traceback", exc_info=exc)
                call_on_error(self.on_error, exc, {"event": f"lifespan_{phase}_failed"})
                await send({"type": f"lifespan.{phase}.failed", "message": ""})
            else:
                report_error(self, f"lifespan_{phase}_failed", exc)
                message = redact_credentials(repr(exc))  # the server prints it
                await send({"type": f"lifespan.{phase}.failed", "message": message})
            raise
        await send({"type": "lifespan.shutdown.complete"})

    @asynccontextmanager
    async def running(self) -> AsyncIterator[Ravyn]:
        """Everything the lifespan starts: the bus, the user's startup, the scheduler.

        The ASGI lifespan uses it; so can a script or test that needs the app running
        without a server (``async with app.running(): ...``).
        """
        if self._stack is None:
            self._build_stack()  # a middleware configured wrongly fails now, not per request
        with bus_context(self.events):
            async with AsyncExitStack() as stack:
                use_sync_listener_threads(self.settings.sync_listener_threads)
                await self.events.start()
                stack.push_async_callback(self.events.stop)
                if self.settings.loop_stall_threshold:
                    monitor = LoopStallMonitor(self.settings.loop_stall_threshold)
                    await stack.enter_async_context(monitor.watching())
                self._log_catalogue()
                for lifespan in self.extension_lifespans:
                    await stack.enter_async_context(lifespan(self))
                if self.user_lifespan is not None:
                    await stack.enter_async_context(self.user_lifespan(self))
                else:
                    for handler in self.on_startup:
                        await _call(handler)
                    for handler in reversed(self.on_shutdown):
                        stack.push_async_callback(_call, handler)
                scheduler = self._scheduler_lifespan()
                if scheduler is not None:
                    await stack.enter_async_context(scheduler)
                stack.enter_context(self.shutdown.watching())  # streams end before the rest
                yield self

    def _scheduler_lifespan(self) -> AbstractAsyncContextManager[Any] | None:
        return self.scheduler.running() if self.enable_scheduler else None

    def catalogue(self) -> dict[str, Any]:
        """The bus's catalogue, and a warning for each route that sends events but that
        this app does not serve (declared, never added: its events are never sent)."""
        catalogue = self.events.catalogue()
        # by function: a mounted Controller serves copies of its routes, bound to an instance
        served = {
            id(getattr(handler.handler, "__func__", handler.handler))
            for handler in served_handlers(self.routes)
        }
        unserved: dict[str, list[str]] = {}
        for entry in catalogue["events"]:
            for name in entry["senders"]:
                route = declared_route(name)
                if route is not None and id(route.handler) not in served:
                    unserved.setdefault(name, []).append(entry["name"])
        catalogue["warnings"] += [
            {
                "kind": "route_not_served",
                "event": events[0],
                "sender": name,
                "message": f"{name} sends {', '.join(map(repr, events))} but is not a route "
                f"of this app, so it never runs: {_how_to_serve(name)}.",
            }
            for name, events in unserved.items()
        ]
        return catalogue

    def _log_catalogue(self) -> None:
        catalogue = self.catalogue()
        logger.info("event_catalogue", events=catalogue_table(catalogue))
        for warning in catalogue["warnings"]:
            details = {key: value for key, value in warning.items() if key != "event"}
            if warning["kind"] == "sent_without_listener" and self.events.transport is not None:
                # a worker process may listen to it: this process cannot know, so no warning
                logger.debug("no_local_listener", event_name=warning["event"])
                continue
            logger.warning("event_catalogue_warning", event_name=warning["event"], **details)


def _how_to_serve(sender: str) -> str:
    """What to add to serve the route ``sender`` names: the function, or the class (a
    Controller) whose method it is."""
    qualname = sender.partition(":")[2]
    owner = qualname.rpartition(".")[0]
    if owner:
        return f"mount its controller (app.add_route({owner}) or Ravyn(routes=[{owner}]))"
    return "add it (app.add_route(...) or Ravyn(routes=[...]))"


def catalogue_table(catalogue: dict[str, Any]) -> Table:
    """One row per event: its name, senders and listeners (a table in the console)."""
    return Table(
        {"event": entry["name"], "senders": entry["senders"], "listeners": entry["listeners"]}
        for entry in catalogue["events"]
    )


class _ReportListenerFailures:
    """A bus tap handing each listener failure to the app's ``on_error`` (the bus logs it)."""

    def __init__(self, on_error: OnError) -> None:
        self.on_error = on_error

    def emitted(self, event: Event) -> None:
        pass

    def finished(self, event: Event, listener: Listener, error: BaseException | None) -> None:
        if isinstance(error, Exception):  # not a cancellation at shutdown
            details = {"event_name": event.name, "event_id": event.id, "listener": listener.name}
            call_on_error(self.on_error, error, {"event": "listener_failed", **details})


def _import_observer(name: str) -> None:
    """Import a module named in ``observers=``; a misspelt one is a line naming the setting."""
    try:
        importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name is None or not (name == exc.name or name.startswith(f"{exc.name}.")):
            raise  # the module exists; something it imports does not
        raise ImproperlyConfigured(
            f"observers=[{name!r}]: no module named {exc.name!r}. Check the spelling; the "
            "module must be importable from where the app runs (the project directory)."
        ) from None


async def _call(handler: Callable[[], Any]) -> None:
    result = handler()
    if inspect.isawaitable(result):
        await result


def _pick(value: Any, fallback: Any) -> Any:
    return fallback if value is None else value


def static_files(url: str, directory: str | os.PathLike[str]) -> Include:
    """The files of ``directory`` served under ``url`` (route name ``static``)."""
    if not os.path.isdir(directory):
        raise ImproperlyConfigured(
            f"static_dir {os.fspath(directory)!r} is not a directory: create it or fix the path."
        )
    return Include(url, app=StaticFiles(directory=directory), name="static")


def template_environment(directory: str | os.PathLike[str]) -> Any:
    try:
        from ravyn.templating import template_environment
    except ImportError as exc:
        raise ImproperlyConfigured(
            "templates_dir needs Jinja2: install ravyn with its 'templates' extra."
        ) from exc
    return template_environment(directory)
