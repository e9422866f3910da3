"""A handler's parameters, compiled once into a binding plan.

Per request the plan does the least work it can: it parses only the sources the handler
uses (path, query, headers, cookies, body) and validates each source with one msgspec call
through a Struct type made at compile time, so a wrong value is a 422 naming its field.

Rules, by parameter:

- annotated ``Request`` (or named ``request``), ``WebSocket`` (or named ``websocket`` in a
  WebSocket handler), ``BackgroundTasks`` (or ``BackgroundTask``): injected, the tasks
  object has ``add_task(func, *args, **kwargs)``;
- named in ``dependencies`` or defaulting to ``Inject(...)``: the dependency's value;
- a dependency declared where the handler is mounted (app, include, gateway or the handler
  itself) that no parameter takes, neither the handler's nor another dependency's, runs as
  a guard: first, before the request's parameters and body are read (it may raise
  ``NotAuthorized``, set ``request.state``);
- a ``Header``/``Cookie``/``Query``/``Body``/``Form`` marker: that source;
- annotated ``UploadFile`` or ``list[UploadFile]`` (or a ``File`` marker): a multipart file;
- named in the path (``/items/{item_id}``): the path parameter, converted;
- a Struct, dataclass, TypedDict, dict or pydantic model annotation: the whole JSON body;
- any other parameter of a POST/PUT/PATCH handler: a field of the body, sent as JSON or as
  a form (from the query string when the body is empty), unless the handler already takes
  the whole body;
- otherwise: a query parameter (lists collect repeated keys).

Why one module of ~450 lines: these rules decide together (a parameter is claimed by the
first that fits), so they are written once, in order, beside the per-request readers they
compile to; what has parsing of its own (forms, uploads, JSON bodies, the 4xx errors) lives
in its own module.
"""

from __future__ import annotations

import dataclasses
import inspect
import re
import types
import typing
from collections.abc import Callable, Iterable, Mapping
from http.cookies import _unquote  # type: ignore[attr-defined]
from typing import Any
from urllib.parse import parse_qsl

import msgspec
from lilya.background import Task, Tasks
from lilya.requests import Request
from lilya.websockets import WebSocket

from ravyn.exceptions import ImproperlyConfigured
from ravyn.routing.dependencies import DependencyPlan, Inject, RequestScope
from ravyn.routing.forms import form_media_type, read_form
from ravyn.routing.json_bodies import body_decoder, pydantic_model
from ravyn.routing.params import NOT_SET, Body, File, Param
from ravyn.routing.request_body import request_body
from ravyn.routing.route_settings import DEFAULT_ROUTE_SETTINGS, RouteSettings
from ravyn.routing.uploads import UploadFile
from ravyn.routing.validation import (
    deeply_nested_body,
    malformed_body,
    missing_body,
    missing_file,
    unsupported_media_type,
    validation_error,
)

BODY_FIELD_METHODS = frozenset({"POST", "PUT", "PATCH"})
_PATH_PARAM = re.compile(r"{(\w+)(?::[^}]*)?}")
_EMPTY = inspect.Parameter.empty
# application/json, application/problem+json, ...; parameters such as charset allowed
_JSON_CONTENT_TYPE = re.compile(rb"\s*application/([\w.+-]*\+)?json\s*(;|$)", re.IGNORECASE)


class SourceStruct:
    """One source's parameters as a msgspec Struct type: validated in one call."""

    __slots__ = ("source", "struct", "names", "lists")

    def __init__(self, source: str, owner: str, fields: list[tuple[str, str, Any, Any]]) -> None:
        self.source = source
        self.names = [name for name, _, _, _ in fields]
        self.lists = frozenset(wire for _, wire, annotation, _ in fields if _is_list(annotation))
        self.struct = msgspec.defstruct(
            f"{owner}_{source}",
            [
                (
                    name,
                    annotation,
                    msgspec.field(default=default, name=wire)
                    if default is not NOT_SET
                    else msgspec.field(name=wire),
                )
                for name, wire, annotation, default in fields
            ],
            kw_only=True,
        )

    def convert(self, values: Mapping[str, Any]) -> Any:
        try:
            return msgspec.convert(values, self.struct, strict=False)
        except msgspec.ValidationError as exc:
            raise validation_error(self.source, exc) from None

    def assign(self, instance: Any, kwargs: dict[str, Any]) -> None:
        for name in self.names:
            kwargs[name] = getattr(instance, name)


class BindingPlan:
    """How to build a handler's arguments from one request (or WebSocket connection)."""

    def __init__(
        self,
        func: Callable[..., Any],
        path: str,
        methods: frozenset[str],
        dependencies: Mapping[str, Inject],
        *,
        websocket: bool = False,
        settings: RouteSettings = DEFAULT_ROUTE_SETTINGS,
    ) -> None:
        self.settings = settings  # the app's limits, given when the routes are finalized
        owner = re.sub(r"\W", "_", getattr(func, "__qualname__", "handler"))  # Struct names
        path_names = set(_PATH_PARAM.findall(path))
        hints = _type_hints(func)
        self.request_params: list[str] = []
        self.websocket_params: list[str] = []
        self.tasks_params: list[str] = []
        self.dependencies: list[tuple[str, DependencyPlan]] = []  # (parameter name, plan)
        self.guards: list[DependencyPlan] = []  # run for their effect, values unused
        self.body_param: tuple[str, Any, Any] | None = None  # name, annotation, default
        # (parameter name, field name on the wire, takes a list, default)
        self.file_params: list[tuple[str, str, bool, Any]] = []
        fields: dict[str, list[tuple[str, str, Any, Any]]] = {
            "path": [],
            "query": [],
            "header": [],
            "cookie": [],
            "body": [],
        }
        scalars: list[tuple[str, Any, Any]] = []
        for name, parameter in inspect.signature(func).parameters.items():
            if parameter.kind in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD):
                raise ImproperlyConfigured(
                    f"Handler {func.__qualname__} takes *{name}: name each parameter instead."
                )
            annotation = hints.get(name, Any)
            default = parameter.default
            if isinstance(default, Inject) or name in dependencies:
                inject = default if isinstance(default, Inject) else dependencies[name]
                self.dependencies.append((name, DependencyPlan(inject, dependencies)))
            elif _is_subclass(annotation, WebSocket) or (
                websocket and name == "websocket" and annotation is Any
            ):
                self.websocket_params.append(name)
            elif _is_subclass(annotation, Request) or (name == "request" and annotation is Any):
                self.request_params.append(name)
            elif _is_subclass(annotation, Task):  # BackgroundTasks, or the singular the docs show
                self.tasks_params.append(name)
            elif isinstance(default, Body):
                self._set_body(func, name, annotation, default.default)
            elif isinstance(default, File) or _upload_kind(annotation) is not None:
                marker = default if isinstance(default, File) else File(_default(default))
                is_list = _upload_kind(annotation) == "list"
                self.file_params.append((name, marker.wire_name(name), is_list, marker.default))
            elif isinstance(default, Param):
                wire = default.wire_name(name)
                fields[default.source].append((name, wire, annotation, default.default))
            elif name in path_names:
                fields["path"].append((name, name, annotation, NOT_SET))
            elif _is_body_type(annotation) and not websocket:
                self._set_body(func, name, annotation, _default(default))
            else:
                scalars.append((name, annotation, _default(default)))
        if self.file_params and (websocket or self.body_param is not None):
            raise ImproperlyConfigured(
                f"Handler {func.__qualname__} takes an UploadFile"
                + (" on a WebSocket" if websocket else f" and the JSON body {self.body_param[0]!r}")
                + ": files arrive in a multipart/form-data request body; take its other "
                "values as fields (str, int, ...) instead."
            )
        self.guards = _guards(dependencies, self.dependencies)
        body_fields = methods & BODY_FIELD_METHODS and self.body_param is None and not websocket
        for name, annotation, default in scalars:
            fields["body" if body_fields else "query"].append((name, name, annotation, default))
        self.sources = {
            source: SourceStruct(source, owner, entries)
            for source, entries in fields.items()
            if entries
        }
        self.needs_request = bool(self.request_params or self.dependencies or self.guards)
        self.reads_body = bool(self.body_param or "body" in self.sources or self.file_params)
        self.reads_forms = self.body_param is None  # body fields and files: also as a form
        self.decode_json: Callable[[bytes], Any] | None = None
        if self.body_param is not None:
            self.decode_json = body_decoder(self.body_param[1])
        elif "body" in self.sources:
            self.decode_json = body_decoder(self.sources["body"].struct)

    def _set_body(self, func: Callable[..., Any], name: str, annotation: Any, default: Any) -> None:
        if self.body_param is not None:
            raise ImproperlyConfigured(
                f"Handler {func.__qualname__} takes two bodies ({self.body_param[0]!r} and "
                f"{name!r}): a request has one JSON body. Wrap them in one Struct."
            )
        self.body_param = (name, annotation, default)

    async def bind(
        self, scope: dict[str, Any], receive: Any, connection: Request | WebSocket | None
    ) -> tuple[dict[str, Any], RequestScope | None, Tasks | None]:
        """The keyword arguments for one call, the dependency scope (for cleanup) and the
        background tasks the handler may fill."""
        request_scope = None
        if self.dependencies or self.guards:
            request_scope = RequestScope(connection)  # type: ignore[arg-type]
        try:
            for plan in self.guards:  # before anything of the request is read
                await plan.resolve(request_scope)  # type: ignore[arg-type]
            kwargs: dict[str, Any] = {}
            sources = self.sources
            if sources:
                for source, values in self._raw_values(scope):
                    sources[source].assign(sources[source].convert(values), kwargs)
            if self.reads_body:
                sent = self._sent_format(scope) if self.reads_forms else None
                if isinstance(sent, tuple):
                    media_type, content_type = sent
                    fields, files = await read_form(
                        scope, receive, media_type, content_type, self.settings
                    )
                    if files:  # closed when the request ends, whatever the handler did
                        if request_scope is None:
                            request_scope = RequestScope(connection)  # type: ignore[arg-type]
                        cleanups = request_scope.cleanups()
                        for uploads in files.values():
                            for upload in uploads:
                                cleanups.push_async_callback(upload.close)
                    self._bind_form(fields, files, kwargs)
                else:
                    body = await request_body(scope, receive, self.settings.max_body_size)
                    self._bind_body(body, scope, kwargs, sent)
            for name, plan in self.dependencies:
                kwargs[name] = await plan.resolve(request_scope)  # type: ignore[arg-type]
        except BaseException as exc:  # a later step failed: clean up the dependencies opened
            if request_scope is not None:
                await request_scope.close(exc)
            raise
        for name in self.request_params:
            kwargs[name] = connection
        for name in self.websocket_params:
            kwargs[name] = connection
        tasks = None
        if self.tasks_params:
            tasks = Tasks()
            for name in self.tasks_params:
                kwargs[name] = tasks
        return kwargs, request_scope, tasks

    def _raw_values(self, scope: dict[str, Any]) -> list[tuple[str, Mapping[str, Any]]]:
        sources = self.sources
        raw = []
        if "path" in sources:
            raw.append(("path", scope.get("path_params", {})))
        if "query" in sources:
            raw.append(("query", _query(scope, sources["query"].lists)))
        if "header" in sources:
            raw.append(("header", _headers(scope, sources["header"].lists)))
        if "cookie" in sources:
            raw.append(("cookie", _cookies(scope)))
        return raw

    def _sent_format(self, scope: dict[str, Any]) -> bool | tuple[str, bytes]:
        """What the request's Content-Type says: True for JSON (also when there is none),
        (form media type, Content-Type) for a form, False for anything else."""
        for key, value in scope["headers"]:
            if key == b"content-type":
                if _JSON_CONTENT_TYPE.match(value):
                    return True
                media_type = form_media_type(value)
                return False if media_type is None else (media_type, value)
        return True

    def _bind_body(
        self, body: bytes, scope: dict[str, Any], kwargs: dict[str, Any], is_json: bool | None
    ) -> None:
        """Bind a JSON body. ``is_json``: what ``_sent_format`` found, None when the
        Content-Type is not checked yet (a whole-body handler: checked here, once)."""
        if body:
            if is_json is None:
                is_json = True  # no Content-Type: read as JSON
                for key, value in scope["headers"]:
                    if key == b"content-type":
                        is_json = _JSON_CONTENT_TYPE.match(value) is not None
                        break
            if self.file_params or not is_json:
                expected = "multipart/form-data" if self.file_params else "application/json"
                raise unsupported_media_type(expected, _content_type(scope))
            try:
                value = self.decode_json(body)  # type: ignore[misc]
            except msgspec.ValidationError as exc:
                raise validation_error("body", exc) from None
            except msgspec.DecodeError as exc:
                raise malformed_body(exc) from None
            except RecursionError:  # msgspec decodes nested JSON recursively
                raise deeply_nested_body() from None
            if self.body_param is None:
                self.sources["body"].assign(value, kwargs)
            else:
                kwargs[self.body_param[0]] = value
        elif self.file_params:  # no body: fields from the query string, no files
            self._bind_form(_query_pairs(scope), {}, kwargs)
        elif self.body_param is not None:
            name, _, default = self.body_param
            if default is NOT_SET:
                raise missing_body()
            kwargs[name] = default
        else:
            source = self.sources["body"]
            source.assign(source.convert(_query(scope, source.lists)), kwargs)

    def _bind_form(
        self, fields: list[tuple[str, str]], files: dict[str, list[UploadFile]], kwargs: dict
    ) -> None:
        """A form's text fields go through the body Struct (converted like JSON values),
        its files to the ``UploadFile`` parameters."""
        source = self.sources.get("body")
        if source is not None:
            source.assign(source.convert(_collect(fields, source.lists)), kwargs)
        for name, wire, is_list, default in self.file_params:
            uploads = files.get(wire)
            if uploads:
                kwargs[name] = uploads if is_list else uploads[0]
            elif default is not NOT_SET:
                kwargs[name] = default
            else:
                raise missing_file(wire)


def _query(scope: dict[str, Any], lists: frozenset[str]) -> dict[str, Any]:
    query_string = scope.get("query_string", b"")
    if not query_string:
        return {}
    return _collect(_query_pairs(scope), lists)


def _content_type(scope: dict[str, Any]) -> str:
    """The request's Content-Type, ``""`` when it has none."""
    for key, value in scope["headers"]:
        if key == b"content-type":
            return value.decode("latin-1")
    return ""


def _query_pairs(scope: dict[str, Any]) -> list[tuple[str, str]]:
    return parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True)


def _headers(scope: dict[str, Any], lists: frozenset[str]) -> dict[str, Any]:
    pairs = (
        (key.decode("latin-1").lower(), value.decode("latin-1")) for key, value in scope["headers"]
    )
    return _collect(pairs, lists)


def _collect(pairs: Iterable[tuple[str, str]], lists: frozenset[str]) -> dict[str, Any]:
    """Name -> value, or every value in order for the names bound to a list."""
    values: dict[str, Any] = {}
    for key, value in pairs:
        if key in lists:
            values.setdefault(key, []).append(value)
        else:
            values[key] = value
    return values


def _cookies(scope: dict[str, Any]) -> dict[str, str]:
    cookies: dict[str, str] = {}
    for raw_key, raw_value in scope["headers"]:
        if raw_key.lower() == b"cookie":
            for chunk in raw_value.decode("latin-1").split(";"):
                key, _, value = chunk.partition("=")
                if key.strip():
                    cookies[key.strip()] = _unquote(value.strip())
    return cookies


def _guards(
    dependencies: Mapping[str, Inject], taken: list[tuple[str, DependencyPlan]]
) -> list[DependencyPlan]:
    """The declared dependencies that neither the handler nor another dependency takes, in
    declaration order (the app's first): each runs as a guard for the handler."""
    plans = {name: plan for name, plan in taken if dependencies.get(name) is plan.inject}
    for name, inject in dependencies.items():
        plans.setdefault(name, DependencyPlan(inject, dependencies))
    consumed = {name for name, _ in taken}
    pending = list(plans.values())
    while pending:
        plan = pending.pop()
        for name, argument in plan.arguments:
            if argument is not None:
                if dependencies.get(name) is argument.inject:
                    consumed.add(name)
                pending.append(argument)
    return [plans[name] for name in dependencies if name not in consumed]


def _type_hints(func: Callable[..., Any]) -> dict[str, Any]:
    try:
        return typing.get_type_hints(func)
    except (NameError, TypeError) as exc:
        raise ImproperlyConfigured(
            f"Cannot resolve the annotations of {func.__qualname__}: {exc}. Import the types "
            "it names at module level."
        ) from exc


def _default(default: Any) -> Any:
    return NOT_SET if default is _EMPTY else default


def _is_subclass(annotation: Any, cls: type) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, cls)


def _is_list(annotation: Any) -> bool:
    origin = typing.get_origin(annotation)
    if origin in (list, tuple, set, frozenset):
        return True
    if origin in (typing.Union, types.UnionType):
        return any(_is_list(arg) for arg in typing.get_args(annotation))
    return annotation in (list, tuple, set, frozenset)


def _upload_kind(annotation: Any) -> str | None:
    """``"one"`` for ``UploadFile`` (or ``UploadFile | None``), ``"list"`` for
    ``list[UploadFile]``, else None."""
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        members = [arg for arg in typing.get_args(annotation) if arg is not type(None)]
        return _upload_kind(members[0]) if len(members) == 1 else None
    if typing.get_origin(annotation) is list:
        return "list" if typing.get_args(annotation) == (UploadFile,) else None
    return "one" if _is_subclass(annotation, UploadFile) else None


def _is_body_type(annotation: Any) -> bool:
    """A Struct, dataclass, TypedDict, dict or pydantic model annotation, also as
    ``X | None``."""
    if pydantic_model(annotation) is not None:
        return True
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        members = [arg for arg in typing.get_args(annotation) if arg is not type(None)]
        return len(members) == 1 and _is_body_type(members[0])
    annotation = typing.get_origin(annotation) or annotation
    return (
        _is_subclass(annotation, msgspec.Struct)
        or (isinstance(annotation, type) and dataclasses.is_dataclass(annotation))
        or typing.is_typeddict(annotation)
        or annotation is dict
    )
